"""Exchange rates into the base currency (``settings.CRM_BASE_CURRENCY``), dated, kept by managers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from orders.models.common import Currency


class ExchangeRate(BaseModel):
    """What one unit of a currency is worth in the base currency from ``valid_from`` until the next rate."""

    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    rate_to_base = models.DecimalField(
        _("rate to the base currency"),
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text=_("Units of the base currency one unit of this currency buys, e.g. 7.9 for EUR in CNY."),
    )
    valid_from = models.DateField(
        _("valid from"), help_text=_("The first day (in the server's time zone) the rate applies to.")
    )

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="orders_exchangerate_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate_to_base} ({self.valid_from:%Y-%m-%d})"

    def clean(self) -> None:
        if self.currency and self.currency == settings.CRM_BASE_CURRENCY:
            raise ValidationError(
                {
                    "currency": _("%(currency)s is the base currency: it needs no rate.")
                    % {"currency": self.currency}
                }
            )


@checks.register(checks.Tags.models)
def base_currency_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """CRM_BASE_CURRENCY must be a currency orders can be in, or no total could be converted into it."""
    if settings.CRM_BASE_CURRENCY in Currency.values:
        return []
    return [
        checks.Error(
            f"CRM_BASE_CURRENCY={settings.CRM_BASE_CURRENCY!r} is not one of {', '.join(Currency.values)}.",
            id="orders.E001",
        )
    ]
