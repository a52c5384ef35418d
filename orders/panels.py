"""The orders panel on the customer page, the dashboard card and the customer history sources (registered
from AppConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm_site.registry import Panel, customer_history, customer_panels, dashboard_cards


def customer_panel_context(*, customer: Any, user: Any, **kwargs: Any) -> dict[str, Any]:
    from orders.selectors import customer_orders_summary

    return customer_orders_summary(customer=customer, user=user)


def dashboard_card_context(*, user: Any, **kwargs: Any) -> dict[str, Any] | None:
    from orders.selectors import dashboard_summary

    return dashboard_summary(user=user)


def _sales_order_history(customer_ids: list[Any]) -> dict[Any, tuple[int, Any]]:
    from orders.selectors.history import sales_order_history

    return sales_order_history(customer_ids)


def _service_order_history(customer_ids: list[Any]) -> dict[Any, tuple[int, Any]]:
    from orders.selectors.history import service_order_history

    return service_order_history(customer_ids)


def _timeline(kind: str) -> Any:
    def entries(**kwargs: Any) -> list[Any]:
        from orders.selectors.timeline import timeline_entries

        return timeline_entries(kind, **kwargs)

    return entries


def register() -> None:
    """Register this module's customer panel, dashboard card, customer history and timeline sources."""
    from crm_site.timeline import TimelineSource, timeline_sources

    for key, label, order in (
        ("order", _("Orders"), 20),
        ("ticket", _("Tickets"), 30),
        ("project", _("Projects"), 40),
        ("opportunity", _("Opportunities"), 50),
    ):
        timeline_sources.register(TimelineSource(key=key, label=label, entries=_timeline(key), order=order))
    customer_history.register("orders", label=_("Orders"), source=_sales_order_history, order=10)
    customer_history.register("tickets", label=_("Tickets"), source=_service_order_history, order=20)
    customer_panels.register(
        Panel(
            key="orders",
            template="orders/includes/_customer_panel.html",
            context=customer_panel_context,
            order=20,
        )
    )
    dashboard_cards.register(
        Panel(
            key="orders",
            template="orders/includes/_dashboard_card.html",
            context=dashboard_card_context,
            order=20,
        )
    )
