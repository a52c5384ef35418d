"""Pieces shared by the order models: money fields, currencies and their visibility declaration."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import VisibleQuerySet

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Pieces on one order line: quantity × unit price (up to 999 billion) must stay within Decimal's 28 digits
# of precision, or rounding the line total raises InvalidOperation (a server error found by fuzzing).
MAX_QUANTITY = 1_000_000


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan")
    USD = "USD", _("US dollar")
    EUR = "EUR", _("Euro")
    HKD = "HKD", _("Hong Kong dollar")


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    """Exact money: 14 digits with 2 decimals (up to 999 billion), never a float."""
    kwargs.setdefault("default", ZERO)
    kwargs.setdefault("validators", [MinValueValidator(ZERO)])
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


class CustomerScopedQuerySet(VisibleQuerySet):
    """Rows a user may see: every row of a customer visible to them, plus those they own.

    Only a declaration: ``crm_site.visibility`` applies it and the customer rule stays in customers.
    """

    visibility_via = ("customer",)
    visibility_owners: tuple[str, ...] = ("owner",)
