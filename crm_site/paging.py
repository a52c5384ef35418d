"""The paging of every list page: nothing here ever runs ``COUNT(*)``.

A page reads one row more than it shows; that extra row says whether a next page exists. Counting a
1,000,000-row table (what Django's ``Paginator`` does on every page) is what makes big lists slow, and
a list page needs no total to offer "Previous / Page n / Next" (``templates/includes/_pagination.html``).

Two ways to walk, one module: ``CountFreePaginator`` (numbered pages, ``?page=n``) for every list, and
``keyset_page`` (opaque cursors, ``?cursor=...``) for a list that must stay fast at any depth on a
million rows (the customer list): it seeks on an index instead of skipping ``OFFSET`` rows.

Use it in a ``ListView`` with ``paginator_class = CountFreePaginator`` (``crm_site.listing.FilteredListMixin``
does), or by hand with ``CountFreePaginator(rows, size).get_page(request.GET.get("page"))``.
A page past the end is empty: ``page()`` raises ``EmptyPage`` (a ListView answers 404, as Django's does),
``get_page()`` shows it empty. Pages beyond ``max_pages`` are refused (deep offsets are slow anyway).
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class CountFreePage(Page):
    """A page that knows whether a next page exists from the one extra row it read."""

    def __init__(self, rows: list[Any], number: int, paginator: CountFreePaginator) -> None:
        size = paginator.per_page
        super().__init__(rows[:size], number, paginator)
        self._has_next = len(rows) > size

    def has_next(self) -> bool:
        return self._has_next

    def start_index(self) -> int:
        if not self.object_list:
            return 0
        return self.paginator.per_page * (self.number - 1) + 1

    def end_index(self) -> int:
        return self.paginator.per_page * (self.number - 1) + len(self.object_list)


class CountFreePaginator(Paginator):
    """Django's Paginator interface without the COUNT: ``page(n)`` runs one query of ``per_page + 1`` rows."""

    max_pages = 10_000

    def __init__(self, object_list: Any, per_page: int | str, orphans: int = 0, **kwargs: Any) -> None:
        # Orphans need the total, which this paginator never reads.
        super().__init__(object_list, per_page, orphans=0, **kwargs)

    @cached_property
    def num_pages(self) -> int:  # type: ignore[override]
        """Unknown without a count: the upper bound (``?page=last`` is then past the end, not a COUNT)."""
        return self.max_pages

    def validate_number(self, number: Any) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        if number > self.max_pages:
            raise EmptyPage(_("That page contains no results"))
        return number

    def page(self, number: Any) -> CountFreePage:
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        rows = list(self.object_list[start : start + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(_("That page contains no results"))
        return CountFreePage(rows, number, self)

    def get_page(self, number: Any) -> CountFreePage:
        """Like ``page`` but never raises: an unusable number is page 1, a page past the end is empty."""
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        number = max(1, min(number, self.max_pages))
        start = (number - 1) * self.per_page
        return CountFreePage(list(self.object_list[start : start + self.per_page + 1]), number, self)


# What a keyset cursor's sort value may be: text (a name) or an aware datetime.
CursorKind = Literal["text", "datetime"]


@dataclass
class KeysetPage:
    """One page of a keyset-paged list with opaque cursors to its neighbours."""

    rows: list[Any]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    is_first: bool = True


def encode_cursor(value: Any, pk: Any, direction: str) -> str:
    if isinstance(value, datetime.datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([value, str(pk), direction]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, kind: CursorKind) -> tuple[Any, uuid.UUID, str] | None:
    """(sort value, pk, direction) of a cursor whose value is of ``kind``; None when it is not one.

    The value's type must be the sort field's: a hand-made cursor never reaches the database as a
    comparison it cannot make.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk, direction = json.loads(raw)
        if kind == "text":
            if not isinstance(value, str) or "\x00" in value:
                return None
        else:
            if not isinstance(value, dict) or not isinstance(value.get("dt"), str):
                return None
            value = datetime.datetime.fromisoformat(value["dt"])
            if value.tzinfo is None:
                return None
            # A value at the year limits (9999-12-31T23:59-14:00) cannot be converted to UTC for the query.
            value.astimezone(datetime.UTC)
        if direction not in ("next", "prev") or not isinstance(pk, str):
            return None
        return value, uuid.UUID(pk), direction
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError):
        return None


def keyset_page(
    qs: QuerySet,
    *,
    field: str,
    descending: bool = False,
    kind: CursorKind = "text",
    cursor: str | None = None,
    size: int = 25,
) -> KeysetPage:
    """A page ordered by (``field``, pk), starting after/before ``cursor``: constant cost at any depth."""
    decoded = decode_cursor(cursor, kind=kind) if cursor else None
    backwards = bool(decoded and decoded[2] == "prev")
    # Walking backwards reads the mirror order, then flips the page.
    reverse = descending != backwards
    order = [f"-{field}", "-pk"] if reverse else [field, "pk"]
    unfiltered = qs
    if decoded:
        value, pk, _direction = decoded
        op = "lt" if reverse else "gt"
        # The first, redundant condition is the one an index can seek on: (a > x OR (a = x AND pk > y))
        # alone makes PostgreSQL walk the sort index from its start, i.e. slower the deeper the page.
        qs = qs.filter(**{f"{field}__{op}e": value}).filter(
            Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk})
        )
    rows = list(qs.order_by(*order)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if backwards and not has_more:
        # Back at the start: show a full first page rather than the few rows before the cursor.
        return keyset_page(unfiltered, field=field, descending=descending, kind=kind, cursor=None, size=size)
    if backwards:
        rows.reverse()
    page = KeysetPage(rows=rows, is_first=not decoded)
    if rows:
        first, last = rows[0], rows[-1]
        if has_more or backwards:
            page.next_cursor = encode_cursor(getattr(last, field), last.pk, "next")
        if decoded:
            page.prev_cursor = encode_cursor(getattr(first, field), first.pk, "prev")
    return page
