"""The orders module's customer timeline sources: sales orders, tickets, projects and opportunities.

Each is one keyset query over the (already checked) customer's rows, newest first (``crm_site.timeline``),
described by a row of ``SOURCES``. Registered from orders/panels.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm_site.timeline import Cursor, TimelineEntry, before_q, choice_labels
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
    badge: str  # a choices field shown as the badge
    detail: str = ""  # a choices field shown under the title


SOURCES: dict[str, Source] = {
    "order": Source(SalesOrder, "ordered_at", "bi-receipt", _order_title, "status"),
    "ticket": Source(
        ServiceOrder,
        "opened_at",
        "bi-life-preserver",
        lambda t: f"{t.number} · {t.subject}",
        "status",
        "type",
    ),
    "project": Source(Project, "created_at", "bi-kanban", lambda p: p.name, "stage"),
    "opportunity": Source(Opportunity, "created_at", "bi-funnel", lambda o: o.name, "stage"),
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
    badges = choice_labels(source.model, source.badge)
    details = choice_labels(source.model, source.detail) if source.detail else {}
    entries = []
    for row in rows:
        badge, detail = getattr(row, source.badge), getattr(row, source.detail) if source.detail else ""
        entries.append(
            TimelineEntry(
                when=getattr(row, source.when),
                kind=kind,
                key=str(row.pk),
                title=source.title(row),
                detail=details.get(detail, detail),
                badge=badges.get(badge, badge),
                url=row.get_absolute_url(),
                icon=source.icon,
            )
        )
    return entries
