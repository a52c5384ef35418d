"""The opportunity pipeline: creation, edits and moves between stages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic
from orders.models import Opportunity
from orders.services.sales import money

Stage = Opportunity.Stage


def _apply_stage(opportunity: Opportunity, stage: str, probability: int | None) -> None:
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage “%(stage)s”.") % {"stage": stage}})
    opportunity.stage = stage
    if stage in Opportunity.CLOSED_STAGES:
        # Won and lost are facts, not estimates.
        opportunity.probability = Opportunity.DEFAULT_PROBABILITY[stage]
        opportunity.closed_at = opportunity.closed_at or timezone.now()
    else:
        opportunity.closed_at = None
        opportunity.probability = (
            probability if probability is not None else Opportunity.DEFAULT_PROBABILITY[Stage(stage)]
        )
    if stage != Stage.LOST:
        opportunity.lost_reason = ""


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


@atomic
def opportunity_update(*, opportunity: Opportunity, **fields: Any) -> Opportunity:
    """Change an opportunity's fields; a stage change goes through the same rules as a board move."""
    allowed = {
        "customer",
        "name",
        "amount",
        "currency",
        "stage",
        "probability",
        "expected_close_date",
        "lost_reason",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)} through opportunity_update")
    stage = fields.pop("stage", opportunity.stage)
    probability = fields.pop("probability", None)
    lost_reason = fields.pop("lost_reason", opportunity.lost_reason)
    for name, value in fields.items():
        setattr(opportunity, name, money(value) if name == "amount" else value)
    _apply_stage(opportunity, stage, probability)
    if stage == Stage.LOST:
        opportunity.lost_reason = lost_reason
    opportunity.full_clean()
    opportunity.save()
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
