"""Interactions (one conversation or contact with a customer, on any channel) and follow-ups."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_site.models import BaseModel
from crm_site.visibility import VisibleQuerySet

# A call or visit longer than a working day is a typo, not a conversation.
MAX_DURATION_SECONDS = 12 * 3600


class InteractionQuerySet(VisibleQuerySet):
    # Visible with the customer only (the customer rule): who logged it, or is assigned a follow-up, sees
    # it while they see the customer; after a reassignment, an unshare or a merge into a customer they
    # cannot see, the row would otherwise name that customer and stay writable.
    visibility_via = ("customer",)


class DeliveryStatus(models.TextChoices):
    """An outgoing email's state: queued in the request, then sent or failed by ``tasks.email_send``."""

    NONE = "", _("—")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Interaction(BaseModel):
    """One contact with a customer: a call, an email, a chat, a visit, a note..."""

    class Channel(models.TextChoices):
        CALL = "call", pgettext_lazy("channel", "Phone call")
        EMAIL = "email", pgettext_lazy("channel", "Email")
        CHAT = "chat", pgettext_lazy("channel", "Online chat")
        VISIT = "visit", pgettext_lazy("channel", "Visit")
        SMS = "sms", pgettext_lazy("channel", "SMS")
        WECHAT = "wechat", pgettext_lazy("channel", "WeChat")
        MEETING = "meeting", pgettext_lazy("channel", "Meeting")
        NOTE = "note", pgettext_lazy("channel", "Note")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        INTERNAL = "internal", _("Internal")

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        INTERESTED = "interested", _("Interested")
        NOT_INTERESTED = "not_interested", _("Not interested")
        COMPLAINT = "complaint", _("Complaint")
        RESOLVED = "resolved", _("Resolved")
        CALL_BACK = "call_back", _("Asked to call back")

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("customer"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("notes"), blank=True, max_length=20_000)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(
        _("duration (seconds)"), null=True, blank=True, validators=[MaxValueValidator(MAX_DURATION_SECONDS)]
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    place = models.CharField(
        _("place"), max_length=200, blank=True, help_text=_("Where a visit or meeting was.")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    sales_order = models.ForeignKey(
        "orders.SalesOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("sales order"),
    )  # fmt: skip
    service_order = models.ForeignKey(
        "orders.ServiceOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("ticket"),
    )  # fmt: skip
    project = models.ForeignKey(
        "orders.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("project"),
    )  # fmt: skip
    # Email sent from the CRM (sessions_log.mail): where to, the Message-ID it carries (replies thread on
    # it), and whether the mail server took it.
    email_to = models.EmailField(_("sent to"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    delivery_status = models.CharField(
        _("delivery"), max_length=10, choices=DeliveryStatus.choices, blank=True
    )
    delivery_error = models.CharField(_("delivery error"), max_length=500, blank=True)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The customer timeline's keyset stream: newest first within one customer.
            models.Index(fields=["customer", "occurred_at", "id"]),
            models.Index(fields=["staff", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.subject or self.customer_id}"

    def get_absolute_url(self) -> str:
        return reverse("sessions_log:interaction-detail", args=[self.pk])

    @property
    def duration_minutes(self) -> int | None:
        return None if self.duration_seconds is None else round(self.duration_seconds / 60)

    def clean(self) -> None:
        if self.occurred_at and self.occurred_at > timezone.now() + timedelta(days=1):
            raise ValidationError(
                {"occurred_at": _("An interaction cannot be logged more than a day ahead.")}
            )


class FollowUpQuerySet(VisibleQuerySet):
    visibility_via = ("customer",)  # as interactions: with the customer only

    def open(self) -> FollowUpQuerySet:
        return self.filter(status=FollowUp.Status.OPEN)


class FollowUp(BaseModel):
    """Something to do for a customer by a due time: call back, send the quote, visit..."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("customer")
    )
    interaction = models.ForeignKey(
        Interaction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("interaction"),
    )
    title = models.CharField(_("what to do"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("follows on from"),
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["customer", "status", "due_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()


class CannedReply(BaseModel):
    """A reusable email text (subject and body) with placeholders such as ``{customer_name}``."""

    class Language(models.TextChoices):
        EN = "en", "English"
        ZH_HANS = "zh-hans", "简体中文"

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.EN)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(
        _("body"),
        max_length=20_000,
        help_text=_(
            "Placeholders: {customer_name}, {staff_name}, {staff_email}, {today}. "
            "Anything else in braces is left as it is."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["language", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="canned_reply_name_language")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_language_display()})"
