"""How to reach a customer (phones, email, WeChat...) and where (the address book)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.fields import EncryptedTextField
from crm_site.models import BaseModel
from customers.models.customer import Customer
from customers.normalize import PHONE_KINDS, contact_grams, contact_hash, contact_tail, normalize_contact


class ContactMethod(BaseModel):
    """One phone number, email address or messaging account of a customer."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        MOBILE = "mobile", _("Mobile")
        EMAIL = "email", _("Email")
        WECHAT = "wechat", _("WeChat")
        QQ = "qq", _("QQ")
        WEIBO = "weibo", _("Weibo")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # Encrypted at rest (issue 13): the database holds a Fernet token, never the address or number.
    value = EncryptedTextField(_("value"), max_length=200)
    # The keyed hash (blind index) of the lowercased / digits-only form, indexed: exact search, duplicate
    # detection and matching mail or calls to customers compare it (``customers.normalize.contact_hash``).
    value_hash = models.CharField(_("value hash"), max_length=64, editable=False, db_index=True)
    # For partial search: an email's local part in clear (``normalize.contact_tail``), and a phone's runs
    # of 4 digits as keyed hashes (``normalize.contact_grams``; trigram-indexed on PostgreSQL).
    value_tail = models.CharField(_("value tail"), max_length=200, editable=False, blank=True, db_index=True)
    value_grams = models.TextField(_("value digit runs"), editable=False, blank=True, default="")
    label = models.CharField(_("label"), max_length=60, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    is_verified = models.BooleanField(_("verified"), default=False)
    # The customer asked not to be contacted at this address/number: the CRM sends nothing to it.
    do_not_contact = models.BooleanField(
        _("do not contact"), default=False, help_text=_("The customer asked not to be contacted here.")
    )

    class Meta:
        # Not by value: a token's order means nothing (sort decrypted values in Python where it matters).
        ordering = ["-is_primary", "kind", "created_at"]
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")
        indexes = [models.Index(fields=["customer", "kind"], name="contact_customer_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    @property
    def value_normalized(self) -> str:
        """The match form of the value (lowercased / digits only), computed from the decrypted value."""
        return normalize_contact(self.kind, self.value)

    def set_match_keys(self) -> None:
        """Derive the blind index and the tail from the value (every save does; bulk paths call it)."""
        normalised = normalize_contact(self.kind, self.value)
        self.value_hash = contact_hash(normalised)
        self.value_tail = contact_tail(self.kind, normalised)
        self.value_grams = contact_grams(self.kind, normalised)

    def clean(self) -> None:
        self.value = (self.value or "").strip()
        self.set_match_keys()
        if not self.value:
            raise ValidationError({"value": _("Enter a value.")})
        if self.kind == self.Kind.EMAIL:
            try:
                validate_email(self.value)
            except ValidationError:
                raise ValidationError({"value": _("Enter a valid email address.")}) from None
        elif self.kind in PHONE_KINDS and not 5 <= len(self.value_normalized) <= 15:
            raise ValidationError({"value": _("Enter a phone number of 5 to 15 digits.")})

    def save(self, *args, **kwargs) -> None:
        # Keep the match keys in step with the value whatever path saved it (bulk tools call set_match_keys).
        self.set_match_keys()
        super().save(*args, **kwargs)


class Address(BaseModel):
    """An entry of a customer's address book."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    label = models.CharField(_("label"), max_length=60, blank=True)
    country = models.CharField(_("country"), max_length=60, default="CN", blank=True)
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    # Encrypted at rest (issue 13); province, city and district stay clear for the demographics.
    street = EncryptedTextField(_("street"), max_length=255, blank=True)
    postal_code = EncryptedTextField(_("postal code"), max_length=20, blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["-is_default", "label"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        indexes = [models.Index(fields=["customer", "is_default"], name="address_customer_default")]

    def __str__(self) -> str:
        return ", ".join(part for part in (self.street, self.district, self.city, self.province) if part)

    def clean(self) -> None:
        if not (self.street or self.city or self.province):
            raise ValidationError({"street": _("Enter at least a street, city or province.")})
