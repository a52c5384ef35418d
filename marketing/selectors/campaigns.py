"""Reads of campaigns, scoped by the project's visibility rule: the owner and managers see a campaign."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from crm_site.visibility import VIEW, Action
from marketing.models import Campaign


def campaign_list(*, user: Any) -> QuerySet[Campaign]:
    """The campaigns ``user`` may see (their own; managers all), newest first."""
    return Campaign.objects.visible_to(user).select_related("owner", "segment").order_by("-created_at", "id")


def campaign_get(*, user: Any, pk: Any, action: Action = VIEW) -> Campaign | None:
    """One campaign ``user`` may see (or change), or None (the view answers 404)."""
    try:
        return (
            Campaign.objects.visible_to(user, action=action)
            .select_related("owner", "segment")
            .filter(pk=pk)
            .first()
        )
    except (ValueError, ValidationError):
        return None
