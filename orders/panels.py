"""The orders panel on the customer page and the dashboard card (registered from AppConfig.ready)."""

from __future__ import annotations

from typing import Any

from crm_site.registry import Panel, customer_panels, dashboard_cards


def customer_panel_context(*, customer: Any, user: Any, **kwargs: Any) -> dict[str, Any]:
    from orders.selectors import customer_orders_summary

    return customer_orders_summary(customer=customer, user=user)


def dashboard_card_context(*, user: Any, **kwargs: Any) -> dict[str, Any]:
    from orders.selectors import dashboard_summary

    return dashboard_summary(user=user)


def register() -> None:
    """Register this module's customer panel and dashboard card."""
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
