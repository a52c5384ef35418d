"""Pieces shared by the order models: money fields, currencies and the per-user visibility rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Self

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import sees_everything

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


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


class CustomerScopedQuerySet(models.QuerySet):
    """Rows a user may see: those they own (or are assigned) plus those of customers visible to them.

    One query: the customer rule is an ``IN`` subquery over ``Customer.objects.visible_to(user)``, so the
    customers app stays the single place that decides who sees which customer.
    """

    owner_fields: tuple[str, ...] = ("owner",)

    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> Self:
        if sees_everything(user):
            return self
        if not user.is_authenticated:
            return self.none()
        from customers.models import Customer

        condition = models.Q(customer__in=Customer.objects.visible_to(user).values("pk"))
        for field in self.owner_fields:
            condition |= models.Q(**{field: user})
        return self.filter(condition)
