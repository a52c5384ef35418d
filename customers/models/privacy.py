"""Customers' privacy: the consent ledger, data-subject requests and the suppression list.

- ``ConsentRecord`` is the ledger: one row per consent given or withdrawn, per purpose, with the notice
  the customer saw, where it came from and the evidence; rows are never changed or deleted from the UI.
  ``ConsentState`` is the ledger's current answer per (customer, purpose), kept in step by the consent
  service, so targeting and the profile rebuild filter on one indexed row instead of the newest record.
- ``DataSubjectRequest`` is a customer's request under PIPL or GDPR (access, portability, correction,
  erasure, objection) with its due date, status and the reason for a refusal.
- ``Suppression`` holds keyed hashes (``crm_site.crypto.blind_index``) of an erased person's phone,
  email, external id and ID number, so a later import or API call does not bring the person back; the
  values themselves are not kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from customers.models.customer import Customer


class ConsentPurpose(models.TextChoices):
    """What a consent is for. Marketing is per channel; profiling is automated-decision marketing (PIPL
    Art. 24 lets the customer refuse it); sensitive data and cross-border transfer need their own separate
    consent (PIPL Art. 29 and 39)."""

    MARKETING_EMAIL = "marketing_email", _("Marketing by email")
    MARKETING_SMS = "marketing_sms", _("Marketing by SMS")
    MARKETING_WECHAT = "marketing_wechat", _("Marketing on WeChat")
    MARKETING_PUSH = "marketing_push", _("Marketing by app push")
    MARKETING_CALL = "marketing_call", _("Marketing by phone call")
    PROFILING = "profiling", _("Profiling for personalised marketing")
    SENSITIVE_DATA = "sensitive_data", _("Processing of sensitive personal data")
    CROSS_BORDER = "cross_border", _("Transfer outside the country")


class ConsentSource(models.TextChoices):
    """Where a consent or its withdrawal came from."""

    WEB_FORM = "web_form", _("Web form")
    PAPER = "paper", _("Signed paper form")
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email reply")
    WECHAT = "wechat", _("WeChat")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    STAFF = "staff", _("Recorded by staff")
    REQUEST = "request", _("Data-subject request")


class ConsentRecord(BaseModel):
    """One consent given or withdrawn (append-only)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consent_records"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("granted"))
    notice_version = models.CharField(_("notice version"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=ConsentSource.choices)
    evidence = models.CharField(
        _("evidence"),
        max_length=500,
        blank=True,
        help_text=_("Where the proof is kept: a form submission id, a recording, a scanned page."),
    )
    recorded_at = models.DateTimeField(_("given or withdrawn at"), db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-created_at"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [
            models.Index(fields=["customer", "purpose", "recorded_at"], name="consent_customer_purpose"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {_('granted') if self.granted else _('withdrawn')}"


class ConsentState(BaseModel):
    """The current consent of one customer for one purpose: the newest ``ConsentRecord``'s answer."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consent_states"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("granted"))
    changed_at = models.DateTimeField(_("given or withdrawn at"))
    record = models.ForeignKey(
        ConsentRecord,
        verbose_name=_("record"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("current consent")
        verbose_name_plural = _("current consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "purpose"], name="consent_state_unique"),
        ]
        indexes = [models.Index(fields=["purpose", "granted", "customer"], name="consent_state_purpose")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.purpose}={self.granted}"


class DataSubjectRequest(BaseModel):
    """A customer's request about their personal data, answered within the law's deadline."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access (what is held about me)")
        PORTABILITY = "portability", _("Portability (a copy to take elsewhere)")
        CORRECTION = "correction", _("Correction")
        ERASURE = "erasure", _("Erasure")
        OBJECTION = "objection", _("Objection (to profiling or marketing)")

    class Law(models.TextChoices):
        PIPL = "pipl", _("PIPL (China)")
        GDPR = "gdpr", _("GDPR (Europe)")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="data_requests",
    )
    kind = models.CharField(_("request"), max_length=12, choices=Kind.choices)
    law = models.CharField(_("law"), max_length=4, choices=Law.choices, default=Law.PIPL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("received at"))
    due_at = models.DateTimeField(_("due by"), db_index=True)
    received_via = models.CharField(_("received via"), max_length=12, choices=ConsentSource.choices)
    details = models.TextField(_("details"), blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What was done: counts per kind of data exported or anonymised, never the data itself.
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)
    archive = models.FileField(_("archive"), upload_to="privacy/exports/%Y/%m/", blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [models.Index(fields=["status", "due_at"], name="dsr_status_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class Suppression(BaseModel):
    """A keyed hash of an erased person's identifier: imports and the API refuse to recreate them."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        EXTERNAL_ID = "external_id", _("External id")
        ID_NUMBER = "id_number", _("ID number")
        HANDLE = "handle", _("WeChat, QQ or Weibo id")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    value_hash = models.CharField(_("keyed hash"), max_length=64)
    request = models.ForeignKey(
        DataSubjectRequest,
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suppressions",
    )

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        constraints = [models.UniqueConstraint(fields=["kind", "value_hash"], name="suppression_unique")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value_hash[:8]}…"
