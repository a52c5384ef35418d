"""Writes of the sessions log: log an interaction (optionally scheduling its follow-up), work follow-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic
from crm_site.services import UNCHANGED, Unchanged, given, model_update
from crm_site.signals import customers_touched
from sessions_log.models import FollowUp, Interaction

# A snooze is for "later today / tomorrow"; longer is a reschedule, with a date.
MAX_SNOOZE_HOURS = 72
# Chaining "call back in N days" from a done follow-up: beyond a year it is a plan, not a follow-up.
MAX_CHAIN_DAYS = 366


@dataclass(frozen=True)
class FollowUpPlan:
    """The next step scheduled in the same form as an interaction."""

    title: str
    due_at: datetime
    assignee: Any = None
    priority: str = FollowUp.Priority.NORMAL


@atomic
def interaction_log(
    *,
    customer: Any,
    channel: str,
    staff: Any,
    direction: str = Interaction.Direction.OUTBOUND,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    duration_seconds: int | None = None,
    outcome: str = "",
    place: str = "",
    sales_order: Any = None,
    service_order: Any = None,
    project: Any = None,
    follow_up: FollowUpPlan | None = None,
) -> tuple[Interaction, FollowUp | None]:
    """Record an interaction with a (checked) customer, and the follow-up it schedules, both or neither.

    Links to an order, ticket or project must belong to the same customer (a link elsewhere is refused
    with the field named).
    """
    for name, linked in (
        ("sales_order", sales_order),
        ("service_order", service_order),
        ("project", project),
    ):
        if linked is not None and linked.customer_id != customer.pk:
            raise ValidationError({name: _("This belongs to another customer.")})
    interaction = Interaction(
        customer=customer,
        channel=channel,
        direction=direction,
        subject=subject.strip(),
        body=body,
        occurred_at=occurred_at or timezone.now(),
        duration_seconds=duration_seconds,
        outcome=outcome,
        place=place.strip(),
        staff=staff,
        sales_order=sales_order,
        service_order=service_order,
        project=project,
    )
    interaction.full_clean()
    interaction.save()
    planned = None
    if follow_up is not None:
        planned = follow_up_create(
            customer=customer,
            title=follow_up.title,
            due_at=follow_up.due_at,
            assignee=follow_up.assignee or staff,
            priority=follow_up.priority,
            created_by=staff,
            interaction=interaction,
        )
    # The customer's contact features (profiles) follow the log within seconds, not at the next rebuild.
    customers_touched(sender=Interaction, customer_ids=[customer.pk])
    return interaction, planned


@atomic
def follow_up_create(
    *,
    customer: Any,
    title: str,
    due_at: datetime,
    assignee: Any,
    created_by: Any,
    priority: str = FollowUp.Priority.NORMAL,
    interaction: Interaction | None = None,
    previous: FollowUp | None = None,
) -> FollowUp:
    follow_up = FollowUp(
        customer=customer,
        title=title.strip(),
        due_at=due_at,
        assignee=assignee,
        created_by=created_by,
        priority=priority,
        interaction=interaction,
        previous=previous,
    )
    follow_up.full_clean()
    follow_up.save()
    return follow_up


def _require_open(follow_up: FollowUp) -> None:
    if follow_up.status != FollowUp.Status.OPEN:
        raise ValidationError(
            _("This follow-up is already %(status)s.") % {"status": follow_up.get_status_display()}
        )


@atomic
def follow_up_done(
    *, follow_up: FollowUp, by: Any, next_in_days: int | None = None, next_title: str = ""
) -> FollowUp | None:
    """Mark a follow-up done; with ``next_in_days`` schedule the next one (returned) for the same customer."""
    _require_open(follow_up)
    if next_in_days is not None and not 0 < next_in_days <= MAX_CHAIN_DAYS:
        raise ValidationError(
            {"next_in_days": _("Give a number of days from 1 to %(max)s.") % {"max": MAX_CHAIN_DAYS}}
        )
    now = timezone.now()
    model_update(
        instance=follow_up,
        fields=["status", "done_at"],
        data={"status": FollowUp.Status.DONE, "done_at": now},
    )
    if next_in_days is None:
        return None
    return follow_up_create(
        customer=follow_up.customer,
        title=next_title.strip() or follow_up.title,
        due_at=now + timedelta(days=next_in_days),
        assignee=follow_up.assignee or by,
        created_by=by,
        priority=follow_up.priority,
        previous=follow_up,
    )


@atomic
def follow_up_update(
    *,
    follow_up: FollowUp,
    title: str | Unchanged = UNCHANGED,
    due_at: datetime | Unchanged = UNCHANGED,
    priority: str | Unchanged = UNCHANGED,
    assignee: Any = UNCHANGED,
) -> FollowUp:
    """Change an open follow-up (reschedule it, reassign it...)."""
    _require_open(follow_up)
    data = given(title=title, due_at=due_at, priority=priority, assignee=assignee)
    follow_up, _updated = model_update(
        instance=follow_up, fields=["title", "due_at", "priority", "assignee"], data=data
    )
    return follow_up


def follow_up_snooze(*, follow_up: FollowUp, hours: int) -> FollowUp:
    """Push an open follow-up back by ``hours`` from now (or from its due time, if that is later)."""
    if not 0 < hours <= MAX_SNOOZE_HOURS:
        raise ValidationError({"hours": _("Snooze for 1 to %(max)s hours.") % {"max": MAX_SNOOZE_HOURS}})
    start = max(timezone.now(), follow_up.due_at)
    return follow_up_update(follow_up=follow_up, due_at=start + timedelta(hours=hours))


@atomic
def follow_up_cancel(*, follow_up: FollowUp) -> FollowUp:
    _require_open(follow_up)
    follow_up, _updated = model_update(
        instance=follow_up, fields=["status"], data={"status": FollowUp.Status.CANCELLED}
    )
    return follow_up
