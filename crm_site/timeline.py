"""The customer timeline: every app's entries about one customer in one newest-first list.

Each app registers a ``TimelineSource`` (from its ``AppConfig.ready``); crm_site never imports them. A
source answers "the newest ``limit`` entries of this customer older than ``cursor``" with one indexed
query (a keyset on its time column and id, ``before_q``), so a page costs one small query per source
whatever the length of the customer's history, and ``timeline_page`` merges those short newest-first
streams. The cursor is (time, kind, key): entries at the same instant are ordered by source kind then
id, so paging never skips or repeats one.

A source function: ``entries(*, customer, user, cursor, limit) -> list[TimelineEntry]`` newest first, for a
customer the page has already checked (filter with ``visible_to(user, within=customer)``).
"""

from __future__ import annotations

import base64
import binascii
import heapq
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

PAGE_SIZE = 25
CURSOR_EARLIEST = datetime(1800, 1, 1)
CURSOR_LATEST = datetime(9000, 1, 1)
# Sorts after every kind and every key at one instant: a cursor "at the end of that moment".
AFTER_ALL = "\uffff"


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the timeline: entries strictly older than (when, kind, key) come next."""

    when: datetime
    kind: str = AFTER_ALL
    key: str = AFTER_ALL

    @property
    def sort_key(self) -> tuple[datetime, str, str]:
        """Where the cursor sits in the order entries are merged by (``TimelineEntry.sort_key``)."""
        return (self.when, self.kind, self.key)

    def encode(self) -> str:
        text = f"{self.when.isoformat()}|{self.kind}|{self.key}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor | None:
        """The cursor in a page link, or None when the token was tampered with (the page starts over)."""
        known = {source.key for source in timeline_sources.sources()} | {AFTER_ALL}
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            when_text, kind, key = text.split("|")
            when = parse_datetime(when_text)
            if when is None or timezone.is_naive(when) or kind not in known:
                return None
            if key != AFTER_ALL:
                key = str(uuid.UUID(key))  # every source's rows have UUID keys (crm_site.models.BaseModel)
            # Far from the ends of datetime's range, where converting to UTC (or back) overflows.
            if not CURSOR_EARLIEST < when.astimezone(UTC).replace(tzinfo=None) < CURSOR_LATEST:
                return None
        except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError):
            return None
        return cls(when=when, kind=kind, key=key)

    @classmethod
    def end_of_day(cls, day: Any) -> Cursor:
        """Jump to a date: the first entries shown are the last ones of that day (server time zone)."""
        start = timezone.make_aware(datetime.combine(day, time.min))
        return cls(when=start + timedelta(days=1))


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline."""

    when: datetime
    kind: str  # the source's key
    key: str  # the row's id as text: the tie-break within one instant
    title: str
    detail: str = ""
    url: str = ""
    icon: str = "bi-dot"
    badge: str = ""
    # Files shown under the entry (objects with name, size, content_type, get_absolute_url).
    attachments: tuple[Any, ...] = ()

    @property
    def sort_key(self) -> tuple[datetime, str, str]:
        return (self.when, self.kind, self.key)


@dataclass(frozen=True)
class TimelineSource:
    key: str
    label: Any
    entries: Callable[..., list[TimelineEntry]]
    order: int = 100


@dataclass
class TimelineRegistry:
    _sources: dict[str, TimelineSource] = field(default_factory=dict)

    def register(self, source: TimelineSource) -> None:
        self._sources[source.key] = source

    def sources(self) -> list[TimelineSource]:
        return sorted(self._sources.values(), key=lambda source: (source.order, source.key))


timeline_sources = TimelineRegistry()


def before_q(cursor: Cursor | None, *, kind: str, when_field: str, key_field: str = "pk") -> Q:
    """The keyset condition of a source of ``kind``: its rows that come after ``cursor`` (older ones).

    Always a plain bound on the time column (``<=`` or ``<``) that the (customer, time, id) index can
    seek to, the tie-break on id beside it: an ``older OR same instant`` form leaves PostgreSQL only the
    customer as index condition, so a page far back walked every newer entry (49 ms three years back
    into 50,000 interactions, against 0.2 ms with the bound).
    """
    if cursor is None:
        return Q()
    if kind < cursor.kind:
        return Q(**{f"{when_field}__lte": cursor.when})
    older = Q(**{f"{when_field}__lt": cursor.when})
    if kind > cursor.kind:
        return older
    same_instant = Q(**{when_field: cursor.when, f"{key_field}__lt": cursor.key})
    return Q(**{f"{when_field}__lte": cursor.when}) & (older | same_instant)


def choice_labels(model: Any, field_name: str) -> dict[Any, str]:
    """A choices field's labels in the active language, built once per source call: ``get_FOO_display``
    hashes the field's lazy choices again on every row (a fifth of a page's time, 156 rows a page)."""
    return {value: str(label) for value, label in model._meta.get_field(field_name).flatchoices}


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: Cursor | None


def timeline_page(
    *,
    customer: Any,
    user: Any,
    kinds: Iterable[str] | None = None,
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> TimelinePage:
    """One page of a checked customer's timeline: each chosen source's next ``limit + 1`` entries, merged."""
    wanted = set(kinds) if kinds else None
    streams = []
    for source in timeline_sources.sources():
        if wanted is not None and source.key not in wanted:
            continue
        rows = source.entries(customer=customer, user=user, cursor=cursor, limit=limit + 1)
        streams.append([row for row in rows if cursor is None or row.sort_key < cursor.sort_key])
    merged = list(heapq.merge(*streams, key=lambda entry: entry.sort_key, reverse=True))
    entries = merged[:limit]
    more = len(merged) > limit
    last = entries[-1] if entries else None
    next_cursor = Cursor(when=last.when, kind=last.kind, key=last.key) if more and last else None
    return TimelinePage(entries=entries, next_cursor=next_cursor)
