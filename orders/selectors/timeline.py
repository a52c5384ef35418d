"""The orders module's customer timeline sources: sales orders, tickets, projects and opportunities.

Each is one keyset query over the (already checked) customer's rows, newest first (``crm_site.timeline``).
Registered from orders/panels.py.
"""

from __future__ import annotations

from typing import Any

from crm_site.timeline import Cursor, TimelineEntry, before_q
from orders.models import Opportunity, Project, SalesOrder, ServiceOrder


def _rows(
    model: Any, *, customer: Any, user: Any, cursor: Cursor | None, limit: int, kind: str, when: str
) -> Any:
    return (
        model.objects.visible_to(user, within=customer)
        .filter(before_q(cursor, kind=kind, when_field=when))
        .order_by(f"-{when}", "-pk")[:limit]
    )


def sales_order_timeline(
    *, customer: Any, user: Any, cursor: Cursor | None, limit: int
) -> list[TimelineEntry]:
    from crm_site.templatetags.money import money

    rows = _rows(
        SalesOrder, customer=customer, user=user, cursor=cursor, limit=limit, kind="order", when="ordered_at"
    )
    return [
        TimelineEntry(
            when=order.ordered_at,
            kind="order",
            key=str(order.pk),
            title=f"{order.number} · {money(order.total, order.currency)}",
            badge=str(order.get_status_display()),
            url=order.get_absolute_url(),
            icon="bi-receipt",
        )
        for order in rows
    ]


def ticket_timeline(*, customer: Any, user: Any, cursor: Cursor | None, limit: int) -> list[TimelineEntry]:
    rows = _rows(
        ServiceOrder,
        customer=customer,
        user=user,
        cursor=cursor,
        limit=limit,
        kind="ticket",
        when="opened_at",
    )
    return [
        TimelineEntry(
            when=ticket.opened_at,
            kind="ticket",
            key=str(ticket.pk),
            title=f"{ticket.number} · {ticket.subject}",
            detail=str(ticket.get_type_display()),
            badge=str(ticket.get_status_display()),
            url=ticket.get_absolute_url(),
            icon="bi-life-preserver",
        )
        for ticket in rows
    ]


def project_timeline(*, customer: Any, user: Any, cursor: Cursor | None, limit: int) -> list[TimelineEntry]:
    rows = _rows(
        Project, customer=customer, user=user, cursor=cursor, limit=limit, kind="project", when="created_at"
    )
    return [
        TimelineEntry(
            when=project.created_at,
            kind="project",
            key=str(project.pk),
            title=project.name,
            badge=str(project.get_stage_display()),
            url=project.get_absolute_url(),
            icon="bi-kanban",
        )
        for project in rows
    ]


def opportunity_timeline(
    *, customer: Any, user: Any, cursor: Cursor | None, limit: int
) -> list[TimelineEntry]:
    rows = _rows(
        Opportunity,
        customer=customer,
        user=user,
        cursor=cursor,
        limit=limit,
        kind="opportunity",
        when="created_at",
    )
    return [
        TimelineEntry(
            when=opportunity.created_at,
            kind="opportunity",
            key=str(opportunity.pk),
            title=opportunity.name,
            badge=str(opportunity.get_stage_display()),
            url=opportunity.get_absolute_url(),
            icon="bi-funnel",
        )
        for opportunity in rows
    ]
