"""The sales pipeline: opportunities moving through stages to won or lost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from orders.models.common import Currency, CustomerScopedQuerySet, money_field


class Opportunity(BaseModel):
    """A possible deal with a customer, with its amount, stage and chance of closing."""

    class Stage(models.TextChoices):
        QUALIFICATION = "qualification", _("Qualification")
        NEEDS_ANALYSIS = "needs_analysis", _("Needs analysis")
        PROPOSAL = "proposal", _("Proposal")
        NEGOTIATION = "negotiation", _("Negotiation")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    # The probability a stage implies when the user does not give one.
    DEFAULT_PROBABILITY: ClassVar[Mapping[str, int]] = {
        Stage.QUALIFICATION: 10,
        Stage.NEEDS_ANALYSIS: 25,
        Stage.PROPOSAL: 50,
        Stage.NEGOTIATION: 75,
        Stage.WON: 100,
        Stage.LOST: 0,
    }
    CLOSED_STAGES = (Stage.WON, Stage.LOST)

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    amount = money_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.QUALIFICATION)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close_date", "-amount"]
        # The customer timeline's keyset stream (orders/selectors/timeline.py): newest first, id breaks ties.
        indexes = [models.Index(fields=["customer", "created_at", "id"], name="orders_deal_timeline")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("orders:opportunity-detail", args=[self.pk])

    def clean(self) -> None:
        if self.stage == self.Stage.LOST and not self.lost_reason.strip():
            raise ValidationError({"lost_reason": _("Say why the opportunity was lost.")})
