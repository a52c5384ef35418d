"""Service orders (tickets): SLA due times from priority, the status workflow, breach flags."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic
from crm_site.services import UNCHANGED, Unchanged, given, model_update
from orders.models import ServiceOrder
from orders.services.history import status_change_record
from orders.services.sales import order_number_new

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from customers.models import Customer

Status = ServiceOrder.Status

TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED),
    Status.ASSIGNED: (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED, Status.CLOSED),
    Status.IN_PROGRESS: (Status.WAITING, Status.RESOLVED),
    Status.WAITING: (Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
    Status.CLOSED: (),
}


def sla_due_at(*, priority: str, opened_at: datetime) -> datetime:
    """When a ticket of this priority opened at ``opened_at`` must be resolved."""
    return opened_at + ServiceOrder.SLA[ServiceOrder.Priority(priority)]


def _sla_values(ticket: ServiceOrder, priority: str, now: datetime) -> dict[str, Any]:
    """The ticket's SLA due time and breach flag for ``priority``."""
    due = sla_due_at(priority=priority, opened_at=ticket.opened_at)
    finished = ticket.resolved_at or (None if ticket.is_open else now)
    # Breached when resolved late, or still open past the due time.
    return {"sla_due_at": due, "sla_breached": (finished or now) > due}


def _refresh_sla(ticket: ServiceOrder, now: datetime) -> None:
    for name, value in _sla_values(ticket, ticket.priority, now).items():
        setattr(ticket, name, value)


@atomic
def service_order_create(
    *,
    customer: Any,
    owner: Any,
    subject: str,
    type: str = ServiceOrder.Type.CONSULTATION,  # noqa: A002 - the model field's name
    priority: str = ServiceOrder.Priority.NORMAL,
    description: str = "",
    assignee: Any = None,
    opened_at: datetime | None = None,
) -> ServiceOrder:
    """Open a ticket; its SLA due time follows from its priority."""
    now = timezone.now()
    ticket = ServiceOrder(
        number=order_number_new(prefix="SR", on=opened_at),
        customer=customer,
        owner=owner,
        subject=subject,
        type=type,
        priority=priority,
        description=description,
        assignee=assignee,
        opened_at=opened_at or now,
        status=Status.ASSIGNED if assignee else Status.NEW,
    )
    ticket.full_clean(exclude=["sla_due_at"])
    _refresh_sla(ticket, now)
    ticket.save()
    return ticket


SERVICE_ORDER_FIELDS = [
    "subject",
    "description",
    "type",
    "priority",
    "assignee",
    "customer",
    "status",
    "sla_due_at",
    "sla_breached",
]


@atomic
def service_order_update(
    *,
    ticket: ServiceOrder,
    subject: str | Unchanged = UNCHANGED,
    description: str | Unchanged = UNCHANGED,
    type: str | Unchanged = UNCHANGED,  # noqa: A002 - the model field's name
    priority: str | Unchanged = UNCHANGED,
    assignee: User | None | Unchanged = UNCHANGED,
    customer: Customer | Unchanged = UNCHANGED,
    by: Any = None,
) -> ServiceOrder:
    """Change a ticket's details; a new priority moves the SLA due time, an assignee assigns a new one
    (a move recorded in its status history with ``by``)."""
    data = given(
        subject=subject,
        description=description,
        type=type,
        priority=priority,
        assignee=assignee,
        customer=customer,
    )
    assigned = ticket.assignee_id is not None if isinstance(assignee, Unchanged) else assignee is not None
    if assigned and ticket.status == Status.NEW:
        data["status"] = Status.ASSIGNED
    new_priority = data.get("priority", ticket.priority)
    if new_priority in ServiceOrder.Priority.values:  # an unknown one is full_clean()'s error to report
        data.update(_sla_values(ticket, new_priority, timezone.now()))
    previous = ticket.status
    ticket, _updated = model_update(instance=ticket, fields=SERVICE_ORDER_FIELDS, data=data)
    if ticket.status != previous:
        status_change_record(obj=ticket, from_status=previous, to_status=ticket.status, by=by)
    return ticket


@atomic
def service_order_transition(
    *,
    ticket: ServiceOrder,
    status: str,
    resolution: str = "",
    satisfaction: int | None = None,
    by: Any = None,
) -> ServiceOrder:
    """Move a ticket along its workflow; resolving needs a resolution and stamps the SLA outcome.

    The move is recorded in the ticket's status history with ``by`` (the user who moved it).
    """
    if status not in Status.values or status not in TRANSITIONS[ticket.status]:
        raise ValidationError(
            {
                "status": _("Ticket %(number)s cannot go from %(current)s to %(target)s.")
                % {
                    "number": ticket.number,
                    "current": ticket.get_status_display(),
                    "target": Status(status).label if status in Status.values else status,
                }
            }
        )
    now = timezone.now()
    if resolution:
        ticket.resolution = resolution
    if status == Status.RESOLVED:
        if not ticket.resolution.strip():
            raise ValidationError({"resolution": _("Describe the resolution before resolving the ticket.")})
        ticket.resolved_at = now
    elif status == Status.IN_PROGRESS:
        ticket.resolved_at = None  # reopened
    elif status == Status.CLOSED and ticket.resolved_at is None:
        ticket.resolved_at = now
    if satisfaction is not None:
        ticket.satisfaction = satisfaction
    previous = ticket.status
    ticket.status = status
    ticket.full_clean()
    _refresh_sla(ticket, now)
    ticket.save()
    status_change_record(obj=ticket, from_status=previous, to_status=status, by=by)
    return ticket


@atomic
def service_order_rate(*, ticket: ServiceOrder, satisfaction: int) -> ServiceOrder:
    """Record the customer's satisfaction (1-5) with a resolved or closed ticket."""
    if ticket.is_open:
        raise ValidationError({"satisfaction": _("Only a resolved or closed ticket can be rated.")})
    ticket.satisfaction = satisfaction
    ticket.full_clean()
    ticket.save(update_fields=["satisfaction", "updated_at"])
    return ticket


def service_orders_flag_breaches(*, now: datetime | None = None) -> int:
    """Mark open tickets past their SLA due time as breached; returns how many changed (idempotent)."""
    now = now or timezone.now()
    overdue = list(
        ServiceOrder.objects.open()
        .filter(sla_breached=False, sla_due_at__lt=now)
        .values_list("pk", flat=True)
    )
    if not overdue:
        return 0
    with atomic():
        return ServiceOrder.objects.filter(pk__in=overdue).update(sla_breached=True, updated_at=now)
