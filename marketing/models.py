"""Campaigns on segments with variants and a holdout, the stored assignment, the send ledger and touches.

Visibility (``crm_site.visibility``): a campaign is seen and changed by its owner and by managers, like
an order is by its owner; variants, assignments, deliveries and touches follow their campaign. Marketing
staff build their own campaigns; the manager's admin and dashboards see all of them.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from crm_site.visibility import VisibleQuerySet
from orders.models.common import Currency, money_field

# The largest holdout a campaign may keep: above half the audience the campaign mostly measures itself
# by not sending, and the variants' intervals get wider than the holdout's.
MAX_HOLDOUT_SHARE = 0.5
ARM_HOLDOUT = "holdout"


def new_seed() -> int:
    """A random 63-bit seed (fits a signed 64-bit column on every backend), drawn once per campaign."""
    return secrets.randbits(63)


class CampaignQuerySet(VisibleQuerySet):
    """Campaigns a user may see: their own (managers: all)."""

    visibility_owners = ("owner",)


class CampaignPartQuerySet(VisibleQuerySet):
    """Rows of a campaign (variants, assignments, deliveries): visible with their campaign."""

    visibility_via = ("campaign",)


class TouchQuerySet(VisibleQuerySet):
    """Touches: visible with their delivery (so with its campaign)."""

    visibility_via = ("delivery",)


class Campaign(BaseModel):
    """A marketing campaign sent on one channel to a segment, split into variants and a holdout."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        APP_PUSH = "app_push", _("App push")
        CALL_LIST = "call_list", _("Call list (offline)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    class Conversion(models.TextChoices):
        ANY_ORDER = "any_order", _("Any order")
        CATEGORIES = "categories", _("An order in chosen categories")

    name = models.CharField(_("name"), max_length=200)
    objective = models.TextField(_("objective"), blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    # SET_NULL, not PROTECT: every profile run deletes the cluster segments that vanished
    # (profiles.services.segments.segments_refresh), and a PROTECT here would make that run fail. The
    # audience is frozen in Assignment once assigned, and ``segment_name`` keeps what was targeted.
    segment = models.ForeignKey(
        "profiles.Segment",
        verbose_name=_("segment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    segment_name = models.CharField(_("segment name"), max_length=100, blank=True, editable=False)
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    budget = money_field(_("budget"))
    actual_cost = money_field(_("actual cost"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    conversion = models.CharField(
        _("conversion"), max_length=10, choices=Conversion.choices, default=Conversion.ANY_ORDER
    )
    # Product category codes (orders.ProductCategory.code) whose orders count as a conversion.
    conversion_categories = models.JSONField(_("conversion categories"), default=list, blank=True)
    attribution_window_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=14, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    holdout_share = models.FloatField(
        _("holdout share"),
        default=0.1,
        validators=[MinValueValidator(0.0), MaxValueValidator(MAX_HOLDOUT_SHARE)],
        help_text=_("Share of the audience that receives nothing, to measure the uplift against."),
    )
    seed = models.BigIntegerField(_("assignment seed"), default=new_seed, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="marketing_campaigns",
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [
            models.Index(fields=["owner", "created_at"], name="campaign_owner_created"),
            models.Index(fields=["status", "scheduled_at"], name="campaign_status_scheduled"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not 0.0 <= (self.holdout_share or 0.0) <= MAX_HOLDOUT_SHARE:
            raise ValidationError({"holdout_share": _("The holdout share must be between 0 and 0.5.")})
        categories = self.conversion_categories
        if not isinstance(categories, list) or not all(isinstance(c, str) and c for c in categories):
            raise ValidationError({"conversion_categories": _("Give the categories as a list of codes.")})
        if self.conversion == self.Conversion.CATEGORIES and not categories:
            raise ValidationError(
                {"conversion_categories": _("Choose at least one category, or count any order.")}
            )
        if self.segment_id is not None and self.segment is not None:
            self.segment_name = self.segment.name[:100]


class Variant(BaseModel):
    """One version of the message (subject and content) and its share of the non-holdout audience."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="variants"
    )
    key = models.CharField(_("key"), max_length=10, help_text=_("A, B, C…"))
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("content"), blank=True)
    share = models.FloatField(
        _("share"), default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )

    objects = CampaignPartQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "key"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="variant_campaign_key")]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.key}"

    def clean(self) -> None:
        self.key = (self.key or "").strip().upper()
        if not self.key or self.key == ARM_HOLDOUT.upper():
            raise ValidationError({"key": _("Name the variant with a short key such as A or B.")})


class Assignment(models.Model):
    """The arm (a variant key or the holdout) one customer of a campaign's audience was assigned to.

    No created/updated columns (the indexed ``created_at`` of the base model would cost every insert of a
    million-row assignment for nothing): ``assigned_at`` is the moment, rows are never changed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="assignments"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    arm = models.CharField(_("arm"), max_length=10)
    assigned_at = models.DateTimeField(_("assigned at"))

    objects = CampaignPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="assignment_campaign_customer")
        ]
        # Arm sizes and the per-arm reads of the report.
        indexes = [models.Index(fields=["campaign", "arm"], name="assignment_campaign_arm")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}: {self.arm}"


class Delivery(BaseModel):
    """The send ledger: one row per (campaign, customer), written before the message leaves."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="deliveries"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    variant = models.ForeignKey(
        Variant,
        verbose_name=_("variant"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Campaign.Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = CampaignPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="delivery_campaign_customer")
        ]
        indexes = [
            # The cross-campaign frequency cap: a customer's deliveries of the last days.
            models.Index(fields=["customer", "status", "sent_at"], name="delivery_customer_sent"),
            # The sender's queue and the report's per-status counts.
            models.Index(fields=["campaign", "status"], name="delivery_campaign_status"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}: {self.status}"


class Touch(BaseModel):
    """A response to a delivery: an open, a click or an unsubscribe, classified human or machine."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        CLICK = "click", _("Click")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="touches"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    # Image proxies, mail scanners, opens within seconds of delivery, clicks without an open.
    is_machine = models.BooleanField(_("machine"), default=False)
    url = models.URLField(_("URL"), max_length=2000, blank=True)

    objects = TouchQuerySet.as_manager()

    class Meta:
        verbose_name = _("touch")
        verbose_name_plural = _("touches")
        indexes = [
            # Per delivery: "was there an open before this click", human opens and clicks per arm.
            models.Index(fields=["delivery", "kind", "occurred_at"], name="touch_delivery_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.kind}"
