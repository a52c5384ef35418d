"""The global search's reads of the orders module: a few rows per kind, through indexes only.

Numbers match from their start (``SO-2025…``, ``SR-D0000…``; typed in any case: numbers are stored in
capitals), served by the unique index; ticket subjects and project and opportunity names match anywhere
(served on PostgreSQL by the trigram indexes of ``orders`` migration ``search_substring_indexes``; from
their start for 1-2 characters). No read counts.

Two steps per kind, so that no plan scans a whole table for a sales user: the newest ``CANDIDATES``
matching rows (through the indexes, unscoped), then those of them the user may see
(``visible_among``: the visibility rule checked for these rows' customers only). When every candidate
taken was someone else's and there may be more, the plain ``visible_to`` query finds the user's rows
(a common word searched by a user who sees few of its matches: slower, and rare).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, Q

from orders.models import Opportunity, Project, SalesOrder, ServiceOrder

# Shorter texts match the start of a subject or name only (a trigram index cannot serve 1-2 characters).
SUBSTRING_MIN_LENGTH = 3
# Matching rows taken before the visibility check.
CANDIDATES = 200

M = TypeVar("M", bound=Model)


def _number(text: str) -> Q:
    return Q(number__startswith=text.upper()) | Q(number__startswith=text)


def _words(field: str, text: str) -> Q:
    lookup = "icontains" if len(text) >= SUBSTRING_MIN_LENGTH else "istartswith"
    return Q(**{f"{field}__{lookup}": text})


def _found(model: type[M], *, user: Any, match: Q, order: tuple[str, ...], limit: int) -> list[M]:
    """The first ``limit`` rows (by ``order``) matching ``match`` that ``user`` may see."""
    manager: Any = model._default_manager
    candidates = list(manager.filter(match).order_by(*order).values_list("pk", flat=True)[:CANDIDATES])
    if not candidates:
        return []
    rows = list(manager.visible_among(user, candidates).select_related("customer").order_by(*order)[:limit])
    if len(rows) < limit and len(candidates) == CANDIDATES:
        rows = list(
            manager.visible_to(user).filter(match).select_related("customer").order_by(*order)[:limit]
        )
    return rows


def sales_order_search(*, user: Any, query: str, limit: int) -> list[SalesOrder]:
    """Orders the user may see whose number starts with ``query``, newest first."""
    return _found(SalesOrder, user=user, match=_number(query), order=("-ordered_at", "-number"), limit=limit)


def service_order_search(*, user: Any, query: str, limit: int) -> list[ServiceOrder]:
    """Tickets the user may see by number (its start) or subject, most recently opened first."""
    match = _number(query) | _words("subject", query)
    return _found(ServiceOrder, user=user, match=match, order=("-opened_at", "-number"), limit=limit)


def project_search(*, user: Any, query: str, limit: int) -> list[Project]:
    """Projects the user may see by name, newest first."""
    return _found(Project, user=user, match=_words("name", query), order=("-created_at", "-id"), limit=limit)


def opportunity_search(*, user: Any, query: str, limit: int) -> list[Opportunity]:
    """Opportunities the user may see by name, the soonest expected to close first."""
    order = ("expected_close_date", "-amount", "id")
    return _found(Opportunity, user=user, match=_words("name", query), order=order, limit=limit)
