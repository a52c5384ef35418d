"""The opportunity pipeline: creation, edits and moves between stages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic
from crm_site.services import UNCHANGED, Unchanged, given, model_update
from orders.models import Opportunity
from orders.services.sales import money

if TYPE_CHECKING:
    from customers.models import Customer

Stage = Opportunity.Stage


def _stage_values(opportunity: Opportunity, stage: str, probability: int | None) -> dict[str, Any]:
    """The fields a move to ``stage`` sets: stage, probability, closed_at (and a cleared lost reason)."""
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage “%(stage)s”.") % {"stage": stage}})
    values: dict[str, Any] = {"stage": stage}
    if stage in Opportunity.CLOSED_STAGES:
        # Won and lost are facts, not estimates.
        values["probability"] = Opportunity.DEFAULT_PROBABILITY[stage]
        values["closed_at"] = opportunity.closed_at or timezone.now()
    else:
        values["closed_at"] = None
        values["probability"] = (
            probability if probability is not None else Opportunity.DEFAULT_PROBABILITY[Stage(stage)]
        )
    if stage != Stage.LOST:
        values["lost_reason"] = ""
    return values


def _apply_stage(opportunity: Opportunity, stage: str, probability: int | None) -> None:
    for name, value in _stage_values(opportunity, stage, probability).items():
        setattr(opportunity, name, value)


@atomic
def opportunity_create(
    *,
    customer: Any,
    owner: Any,
    name: str,
    amount: Decimal = Decimal("0"),
    currency: str = "CNY",
    stage: str = Stage.QUALIFICATION,
    probability: int | None = None,
    expected_close_date: date | None = None,
    lost_reason: str = "",
) -> Opportunity:
    """A new opportunity; the probability defaults to what its stage implies."""
    opportunity = Opportunity(
        customer=customer,
        owner=owner,
        name=name,
        amount=money(amount),
        currency=currency,
        expected_close_date=expected_close_date,
        lost_reason=lost_reason,
    )
    _apply_stage(opportunity, stage, probability)
    opportunity.lost_reason = lost_reason if stage == Stage.LOST else ""
    opportunity.full_clean()
    opportunity.save()
    return opportunity


OPPORTUNITY_FIELDS = [
    "customer",
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "stage",
    "probability",
    "closed_at",
    "lost_reason",
]


@atomic
def opportunity_update(
    *,
    opportunity: Opportunity,
    customer: Customer | Unchanged = UNCHANGED,
    name: str | Unchanged = UNCHANGED,
    amount: Decimal | Unchanged = UNCHANGED,
    currency: str | Unchanged = UNCHANGED,
    stage: str | Unchanged = UNCHANGED,
    probability: int | None | Unchanged = UNCHANGED,
    expected_close_date: date | None | Unchanged = UNCHANGED,
    lost_reason: str | Unchanged = UNCHANGED,
) -> Opportunity:
    """Change an opportunity's fields; a stage change goes through the same rules as a board move.

    Without a ``probability`` an open stage gets the probability it implies.
    """
    data = given(customer=customer, name=name, currency=currency, expected_close_date=expected_close_date)
    if not isinstance(amount, Unchanged):
        data["amount"] = money(amount)
    data.update(
        _stage_values(
            opportunity,
            opportunity.stage if isinstance(stage, Unchanged) else stage,
            None if isinstance(probability, Unchanged) else probability,
        )
    )
    if data["stage"] == Stage.LOST and not isinstance(lost_reason, Unchanged):
        data["lost_reason"] = lost_reason
    opportunity, _updated = model_update(instance=opportunity, fields=OPPORTUNITY_FIELDS, data=data)
    return opportunity


@atomic
def opportunity_move(*, opportunity: Opportunity, stage: str, lost_reason: str = "") -> Opportunity:
    """Move a card on the board to ``stage``; losing needs a reason."""
    if stage == opportunity.stage:
        return opportunity
    _apply_stage(opportunity, stage, None)
    if stage == Stage.LOST:
        opportunity.lost_reason = lost_reason.strip()
    opportunity.full_clean()
    opportunity.save()
    return opportunity
