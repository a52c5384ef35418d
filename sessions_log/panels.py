"""The sessions log's customer panel, dashboard card and timeline source (registered from AppConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm_site.registry import Panel, customer_panels, dashboard_cards
from crm_site.timeline import TimelineSource, timeline_sources


def customer_panel_context(*, customer: Any, user: Any, **kwargs: Any) -> dict[str, Any]:
    from sessions_log.forms import quick_log_forms
    from sessions_log.selectors import customer_interactions, customer_open_follow_ups

    return {
        "customer": customer,
        "interactions": customer_interactions(customer=customer, user=user),
        "follow_ups": customer_open_follow_ups(customer=customer, user=user),
        "log_forms": quick_log_forms(),
        "can_log": user.has_perm("sessions_log.add_interaction"),
    }


def dashboard_card_context(*, user: Any, **kwargs: Any) -> dict[str, Any] | None:
    from sessions_log.selectors import follow_up_agenda

    if not user.has_perm("sessions_log.view_followup"):
        return None  # a role without follow-ups (knowledge editors) gets no card (docs/roles.md)

    agenda = follow_up_agenda(user=user)
    return {
        "overdue": len(agenda.overdue),
        "today": len(agenda.today),
        "next": (agenda.overdue + agenda.today)[:5],
    }


def _interaction_entries(**kwargs: Any) -> list[Any]:
    from sessions_log.selectors import interaction_timeline

    return interaction_timeline(**kwargs)


def register() -> None:
    customer_panels.register(
        Panel(
            key="interactions",
            template="sessions_log/includes/_customer_panel.html",
            context=customer_panel_context,
            order=10,
        )
    )
    dashboard_cards.register(
        Panel(
            key="follow_ups",
            template="sessions_log/includes/_dashboard_card.html",
            context=dashboard_card_context,
            order=5,
        )
    )
    timeline_sources.register(
        TimelineSource(key="interaction", label=_("Interactions"), entries=_interaction_entries, order=10)
    )
