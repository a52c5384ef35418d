"""What each app holds about one customer, to hand it over (access, portability) or erase it (issue 13).

Each app declares its handlers in ``<app>/personal_data.py`` (found by ``autodiscover_modules`` in
``CRMSiteConfig.ready``, so crm_site and customers import no higher app):
``personal_data.register(PersonalDataHandler(...))``. A handler answers for one kind of data:

- ``export(customer_id)`` -> ``{section: [row, ...]}``: every personal value it holds, as plain dicts;
- ``erase(customer_id, request=)`` -> ``{what: count}``: deletes or empties what it holds and says how
  many rows it changed; a second call finds nothing (counts 0) and does not fail;
- ``blockers(customer_id)`` -> messages: why an erasure must wait (open tickets), empty when it may go.

``customers.services.privacy`` runs the exports in ``order`` and the erasures in reverse order (the
higher apps first, so nothing is left pointing at an emptied row), all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Rows = dict[str, list[dict[str, Any]]]


def _no_blockers(customer_id: Any) -> list[str]:
    return []


@dataclass(frozen=True)
class PersonalDataHandler:
    """One app's part of a customer's personal data."""

    key: str
    label: Any
    export: Callable[[Any], Rows]
    erase: Callable[..., dict[str, int]]
    order: int = 100
    blockers: Callable[[Any], list[str]] = _no_blockers


class PersonalDataRegistry:
    """The handlers keyed by name; registering a key again replaces it."""

    def __init__(self) -> None:
        self._handlers: dict[str, PersonalDataHandler] = {}

    def register(self, handler: PersonalDataHandler) -> None:
        self._handlers[handler.key] = handler

    def handlers(self) -> list[PersonalDataHandler]:
        """In export order (lowest ``order`` first: the customer's master data leads)."""
        return sorted(self._handlers.values(), key=lambda handler: (handler.order, handler.key))

    def erasure_order(self) -> list[PersonalDataHandler]:
        """Highest ``order`` first: the apps built on top erase before the records they point at."""
        return list(reversed(self.handlers()))


personal_data = PersonalDataRegistry()


def fields_of(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """{name: value} of a model instance (foreign keys by their key), for an export row."""
    result: dict[str, Any] = {}
    for name in names:
        field = row._meta.get_field(name)
        result[name] = getattr(row, getattr(field, "attname", name))
    return result
