"""The orders module's sources of the global search (registered from ``OrdersConfig.ready``).

Sales orders and tickets by number (and tickets by subject), projects and opportunities by name; each
kind's "more" link is its own list filtered by the same text (whose search is a superset of this one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.registry import SearchHit, SearchSource, search_sources


def _detail(*parts: Any) -> str:
    return " · ".join(str(part) for part in parts if part)


def sales_order_hits(*, user: Any, query: str, limit: int) -> list[SearchHit]:
    from orders.selectors.search import sales_order_search

    return [
        SearchHit(order.number, order.get_absolute_url(), _detail(order.customer, order.get_status_display()))
        for order in sales_order_search(user=user, query=query, limit=limit + 1)
    ]


def service_order_hits(*, user: Any, query: str, limit: int) -> list[SearchHit]:
    from orders.selectors.search import service_order_search

    return [
        SearchHit(
            f"{ticket.number} · {ticket.subject}",
            reverse("orders:serviceorder-detail", args=[ticket.pk]),
            _detail(ticket.customer, ticket.get_status_display()),
        )
        for ticket in service_order_search(user=user, query=query, limit=limit + 1)
    ]


def project_hits(*, user: Any, query: str, limit: int) -> list[SearchHit]:
    from orders.selectors.search import project_search

    return [
        SearchHit(
            project.name,
            reverse("orders:project-detail", args=[project.pk]),
            _detail(project.customer, project.get_stage_display()),
        )
        for project in project_search(user=user, query=query, limit=limit + 1)
    ]


def opportunity_hits(*, user: Any, query: str, limit: int) -> list[SearchHit]:
    from orders.selectors.search import opportunity_search

    return [
        SearchHit(
            deal.name,
            reverse("orders:opportunity-detail", args=[deal.pk]),
            _detail(deal.customer, deal.get_stage_display()),
        )
        for deal in opportunity_search(user=user, query=query, limit=limit + 1)
    ]


def _list_url(name: str) -> Callable[[str], str]:
    def more_url(query: str) -> str:
        return f"{reverse(name)}?{urlencode({'q': query})}"

    return more_url


def register() -> None:
    sources = [
        ("sales_orders", _("Sales orders"), sales_order_hits, "salesorder", "receipt", 20),
        ("tickets", _("Tickets"), service_order_hits, "serviceorder", "headset", 30),
        ("projects", _("Projects"), project_hits, "project", "kanban", 40),
        ("opportunities", _("Opportunities"), opportunity_hits, "opportunity", "graph-up-arrow", 50),
    ]
    for key, label, hits, model, icon, order in sources:
        search_sources.register(
            SearchSource(
                key=key,
                label=label,
                search=hits,
                more_url=_list_url(f"orders:{model}-list"),
                permission=f"orders.view_{model}",
                icon=icon,
                order=order,
            )
        )
