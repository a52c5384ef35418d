"""Partners (resellers, suppliers, affiliates) and relations between customers and partners."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from customers.models.customer import Customer


class Partner(BaseModel):
    """A business we work with rather than sell to."""

    class Kind(models.TextChoices):
        RESELLER = "reseller", _("Reseller")
        SUPPLIER = "supplier", _("Supplier")
        AFFILIATE = "affiliate", _("Affiliate")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.RESELLER)
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL
    )
    website = models.URLField(_("web site"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        indexes = [models.Index(fields=["kind", "name"], name="partner_kind_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:partner-detail", kwargs={"pk": self.pk})


class PartnerContact(BaseModel):
    """A person at a partner."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=120)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner contact")
        verbose_name_plural = _("partner contacts")

    def __str__(self) -> str:
        return self.name


class Relationship(BaseModel):
    """A link from a customer to another customer or to a partner."""

    class Kind(models.TextChoices):
        REFERRAL = "referral", _("Referred by")
        HOUSEHOLD = "household", _("Same household")
        EMPLOYEE_OF = "employee_of", _("Employee of")
        RESELLER_OF = "reseller_of", _("Buys through reseller")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="relationships"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    related_customer = models.ForeignKey(
        Customer,
        verbose_name=_("related customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="inverse_relationships",
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="relationships",
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["kind", "created_at"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.related_customer_id or self.partner_id}"

    def clean(self) -> None:
        if bool(self.related_customer_id) == bool(self.partner_id):
            raise ValidationError(_("Link the relationship to exactly one customer or one partner."))
        if self.related_customer_id and self.related_customer_id == self.customer_id:
            raise ValidationError({"related_customer": _("A customer cannot be related to itself.")})
        if self.kind == self.Kind.RESELLER_OF and not self.partner_id:
            raise ValidationError({"partner": _("A reseller relationship needs a partner.")})
