"""The global search's reads of the orders module: a few rows per kind, through indexes only.

Numbers match from their start (``SO-2025…``, ``SR-D0000…``; typed in any case: numbers are stored in
capitals), served by the unique index; ticket subjects and project and opportunity names match anywhere
(served on PostgreSQL by the trigram indexes of migration 0006; from their start for 1-2 characters). Every
read starts from ``visible_to(user)`` and takes at most ``limit`` rows: no count.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from orders.models import Opportunity, Project, SalesOrder, ServiceOrder

# Shorter texts match the start of a subject or name only (a trigram index cannot serve 1-2 characters).
SUBSTRING_MIN_LENGTH = 3


def _number(text: str) -> Q:
    return Q(number__startswith=text.upper()) | Q(number__startswith=text)


def _words(field: str, text: str) -> Q:
    lookup = "icontains" if len(text) >= SUBSTRING_MIN_LENGTH else "istartswith"
    return Q(**{f"{field}__{lookup}": text})


def sales_order_search(*, user: Any, query: str, limit: int) -> list[SalesOrder]:
    """Orders the user may see whose number starts with ``query``, newest first."""
    return list(
        SalesOrder.objects.visible_to(user)
        .filter(_number(query))
        .select_related("customer")
        .order_by("-ordered_at", "-number")[:limit]
    )


def service_order_search(*, user: Any, query: str, limit: int) -> list[ServiceOrder]:
    """Tickets the user may see by number (its start) or subject, most recently opened first."""
    return list(
        ServiceOrder.objects.visible_to(user)
        .filter(_number(query) | _words("subject", query))
        .select_related("customer")
        .order_by("-opened_at", "-number")[:limit]
    )


def project_search(*, user: Any, query: str, limit: int) -> list[Project]:
    """Projects the user may see by name, newest first."""
    return list(
        Project.objects.visible_to(user)
        .filter(_words("name", query))
        .select_related("customer")
        .order_by("-created_at", "-id")[:limit]
    )


def opportunity_search(*, user: Any, query: str, limit: int) -> list[Opportunity]:
    """Opportunities the user may see by name, the soonest expected to close first."""
    return list(
        Opportunity.objects.visible_to(user)
        .filter(_words("name", query))
        .select_related("customer")
        .order_by("expected_close_date", "-amount", "id")[:limit]
    )
