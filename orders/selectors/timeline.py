"""The orders module's customer timeline sources: sales orders, tickets, projects and opportunities.

Each is one keyset query over the (already checked) customer's rows, newest first (``crm_site.timeline``),
described by a row of ``SOURCES``. Registered from orders/panels.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm_site.timeline import Cursor, TimelineEntry, before_q
from orders.models import Opportunity, Project, SalesOrder, ServiceOrder


def _order_title(order: SalesOrder) -> str:
    from crm_site.templatetags.money import money

    return f"{order.number} · {money(order.total, order.currency)}"


@dataclass(frozen=True)
class Source:
    model: Any
    when: str  # the time column the stream is ordered by
    icon: str
    title: Callable[[Any], str]
    badge: Callable[[Any], Any]
    detail: Callable[[Any], Any] = lambda row: ""


SOURCES: dict[str, Source] = {
    "order": Source(SalesOrder, "ordered_at", "bi-receipt", _order_title, lambda o: o.get_status_display()),
    "ticket": Source(
        ServiceOrder,
        "opened_at",
        "bi-life-preserver",
        lambda t: f"{t.number} · {t.subject}",
        lambda t: t.get_status_display(),
        lambda t: t.get_type_display(),
    ),  # fmt: skip
    "project": Source(Project, "created_at", "bi-kanban", lambda p: p.name, lambda p: p.get_stage_display()),
    "opportunity": Source(
        Opportunity, "created_at", "bi-funnel", lambda o: o.name, lambda o: o.get_stage_display()
    ),
}


def timeline_entries(
    kind: str, *, customer: Any, user: Any, cursor: Cursor | None, limit: int
) -> list[TimelineEntry]:
    """The newest ``limit`` rows of source ``kind`` for a checked customer, older than ``cursor``."""
    source = SOURCES[kind]
    rows = (
        source.model.objects.visible_to(user, within=customer)
        .filter(before_q(cursor, kind=kind, when_field=source.when))
        .order_by(f"-{source.when}", "-pk")[:limit]
    )
    return [
        TimelineEntry(
            when=getattr(row, source.when),
            kind=kind,
            key=str(row.pk),
            title=source.title(row),
            detail=str(source.detail(row)),
            badge=str(source.badge(row)),
            url=row.get_absolute_url(),
            icon=source.icon,
        )
        for row in rows
    ]
