"""The customer (a person or a company), its tags and who it is shared with."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.fields import EncryptedDateField, EncryptedTextField
from crm_site.models import BaseModel
from crm_site.visibility import VisibleQuerySet


class CustomerQuerySet(VisibleQuerySet):
    """Customers; ``visible_to(user)`` applies the customer rule (customers/selectors/visibility.py)."""


class Tag(BaseModel):
    """A free label staff put on customers (VIP, 华东, wholesale...)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    color = models.CharField(_("colour"), max_length=20, default="secondary", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Customer(BaseModel):
    """A person or a company the business sells to."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    class LifecycleStage(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        CHURNED = "churned", _("Churned")

    class Source(models.TextChoices):
        WEB = "web", _("Web site")
        APP = "app", _("App")
        SHOP = "shop", _("Shop")
        REFERRAL = "referral", _("Referral")
        EVENT = "event", _("Event")
        PHONE = "phone", _("Phone")
        WECHAT = "wechat", _("WeChat")
        IMPORT = "import", _("Import")
        OTHER = "other", _("Other")

    class ConsentChannel(models.TextChoices):
        NONE = "", _("Not recorded")
        WEB_FORM = "web_form", _("Web form")
        PAPER = "paper", _("Signed paper form")
        PHONE = "phone", _("Phone call")
        EMAIL = "email", _("Email reply")
        WECHAT = "wechat", _("WeChat")
        IMPORT = "import", _("Import")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    # Encrypted at rest (issue 13): ages are computed from the decrypted value in Python, never in SQL.
    birth_date = EncryptedDateField(_("birth date"), null=True, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    company_size = models.PositiveIntegerField(_("company size (staff)"), null=True, blank=True)
    website = models.URLField(_("web site"), blank=True)
    tax_number = models.CharField(_("tax number"), max_length=60, blank=True)
    # A person's national ID or passport number: sensitive personal data (PIPL Art. 28).
    id_number = EncryptedTextField(_("ID number"), max_length=40, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=10, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.OTHER)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
    )
    external_id = models.CharField(_("external id"), max_length=100, unique=True, null=True, blank=True)
    attributes = models.JSONField(_("custom fields"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags: models.ManyToManyField[Tag, CustomerTag] = models.ManyToManyField(
        Tag, through="CustomerTag", verbose_name=_("tags"), blank=True
    )
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    consent_changed_at = models.DateTimeField(_("consent given or withdrawn at"), null=True, blank=True)
    consent_channel = models.CharField(
        _("consent given or withdrawn via"), max_length=10, choices=ConsentChannel.choices, blank=True
    )
    consent_note = models.CharField(_("consent note"), max_length=255, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            # Lifts the customer rule for reading (crm_site.visibility.sees_all): Service and Marketing.
            ("view_all_customer", _("Can view every customer")),
            # Download the customer list (CSV/XLSX) of the customers the user sees: Sales and managers.
            ("export_customer", _("Can export customers")),
            # See phones, emails, ID numbers, birth dates and streets in full (lists, pages, exports, API);
            # without it they are masked (138****5678, a***@example.com). Sales, Service, managers.
            ("view_pii_customer", _("Can see customers' personal data unmasked")),
            # Show one masked value in full, with a reason, each time written to the audit trail.
            ("reveal_pii_customer", _("Can reveal a masked personal value")),
        ]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_id"),
            models.Index(fields=["owner", "name", "id"], name="customer_owner_name"),
            models.Index(fields=["created_at", "id"], name="customer_created_id"),
            models.Index(fields=["updated_at", "id"], name="customer_updated_id"),
            models.Index(fields=["lifecycle_stage", "name"], name="customer_stage_name"),
            models.Index(fields=["source", "name"], name="customer_source_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:customer-detail", kwargs={"pk": self.pk})

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.kind == self.Kind.COMPANY and not (self.company_name or self.name):
            errors["company_name"] = _("A company needs a company name.")
        if not isinstance(self.attributes, dict):
            errors["attributes"] = _("Custom fields must be a mapping of field to value.")
        if self.external_id == "":
            self.external_id = None
        if isinstance(self.birth_date, datetime.date):
            from django.utils import timezone

            if self.birth_date > timezone.localdate():
                errors["birth_date"] = _("The birth date cannot be in the future.")
        if errors:
            raise ValidationError(errors)


class CustomerTag(BaseModel):
    """A tag on a customer (explicit through model: join tables need UUID keys)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="customer_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_tags")

    class Meta:
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_unique")]
        indexes = [models.Index(fields=["tag", "customer"], name="customertag_tag_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.tag_id}"


class CustomerShare(BaseModel):
    """A customer shared with one more staff user, who may then see and edit it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_shares"
    )

    class Meta:
        verbose_name = _("customer share")
        verbose_name_plural = _("customer shares")
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="customer_share_unique")]
        indexes = [models.Index(fields=["user", "customer"], name="customershare_user_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} -> {self.user_id}"


class CustomerTeamShare(BaseModel):
    """A customer shared with a team (an auth group): every member may see and edit it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="team_shares")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="customer_shares")

    class Meta:
        verbose_name = _("customer team share")
        verbose_name_plural = _("customer team shares")
        constraints = [
            models.UniqueConstraint(fields=["customer", "group"], name="customer_teamshare_unique")
        ]
        indexes = [models.Index(fields=["group", "customer"], name="customerteam_group_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} -> {self.group_id}"
