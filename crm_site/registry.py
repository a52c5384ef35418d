"""Extension points filled by the apps, so that no app imports a higher one.

The customer detail page shows a panel per app (orders, interactions, profile, campaigns...), and the
dashboard shows a card per app, the global search asks every app's ``search_sources``;
``customer_history`` collects what each app knows of a customer's past
(duplicates and merges weigh it). Each app registers its own in ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    """A block of a page rendered from ``template`` with the dict that ``context`` returns."""

    key: str
    template: str
    context: Callable[..., dict[str, Any] | None]
    order: int = 100


class PanelRegistry:
    """An ordered set of panels keyed by name; registering a key again replaces it."""

    def __init__(self) -> None:
        self._panels: dict[str, Panel] = {}

    def register(self, panel: Panel) -> None:
        self._panels[panel.key] = panel

    def panels(self) -> list[Panel]:
        return sorted(self._panels.values(), key=lambda panel: (panel.order, panel.key))

    def render_contexts(self, **kwargs: Any) -> list[tuple[Panel, dict[str, Any]]]:
        """Each panel with its context computed from ``kwargs`` (e.g. customer=..., user=...).

        A panel whose context is None has nothing for this user (e.g. a dashboard card of a module the
        user's role does not use) and is left out.
        """
        found = ((panel, panel.context(**kwargs)) for panel in self.panels())
        return [(panel, context) for panel, context in found if context is not None]


customer_panels = PanelRegistry()
dashboard_cards = PanelRegistry()


@dataclass(frozen=True)
class SearchHit:
    """One record found by the global search: what to show and where it links."""

    title: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class SearchSource:
    """One kind of record the global search looks through (customers, sales orders, tickets...).

    ``search(user=, query=, limit=)`` returns at most ``limit`` + 1 hits among what ``user`` may see (the
    extra one only tells that there are more: no source counts); ``more_url(query)`` is the kind's own
    list filtered by the query. ``permission`` (a model permission) hides the kind from users without it.
    """

    key: str
    label: Any
    search: Callable[..., list[SearchHit]]
    more_url: Callable[[str], str]
    permission: str = ""
    icon: str = "search"
    order: int = 100
    # ``notice(user=, query=)`` after ``search``: a sentence to show above the results ("" for none),
    # e.g. that part of the search was skipped.
    notice: Callable[..., str] | None = None


@dataclass(frozen=True)
class SearchGroup:
    """The hits of one source for one query; ``has_more`` when the source had more than it showed."""

    source: SearchSource
    hits: list[SearchHit]
    has_more: bool
    query: str

    @property
    def more_url(self) -> str:
        return self.source.more_url(self.query)


class SearchRegistry:
    """The global search's sources keyed by name; registering a key again replaces it."""

    def __init__(self) -> None:
        self._sources: dict[str, SearchSource] = {}

    def register(self, source: SearchSource) -> None:
        self._sources[source.key] = source

    def sources(self, user: Any = None) -> list[SearchSource]:
        """The sources in display order; with ``user``, only those the user holds the permission for."""
        ordered = sorted(self._sources.values(), key=lambda source: (source.order, source.key))
        if user is None:
            return ordered
        return [source for source in ordered if not source.permission or user.has_perm(source.permission)]

    def search(self, *, user: Any, query: str, limit: int = 5) -> list[SearchGroup]:
        """Each permitted source's first ``limit`` hits for ``query``; kinds with no hit are left out."""
        groups = []
        for source in self.sources(user):
            hits = source.search(user=user, query=query, limit=limit)
            if hits:
                groups.append(SearchGroup(source, hits[:limit], len(hits) > limit, query))
        return groups

    def notices(self, *, user: Any, query: str) -> list[str]:
        """The permitted sources' notices for a search just made (call after ``search``)."""
        found = [source.notice(user=user, query=query) for source in self.sources(user) if source.notice]
        return [text for text in found if text]


search_sources = SearchRegistry()


@dataclass(frozen=True)
class HistoryFact:
    """How much of one kind of history a customer has (e.g. 4 orders, the last on 2025-03-01)."""

    key: str
    label: Any
    count: int
    last_at: Any = None


# A source answers for many customers at once: {customer pk: (count, last date or None)}; one query each.
HistorySource = Callable[[list[Any]], dict[Any, tuple[int, Any]]]


class HistoryRegistry:
    """What each app knows of a customer's past (orders, tickets, events...), for duplicates and merges.

    ``customers`` decides which of two duplicates keeps its record by how much history each has, but may
    not import the apps that hold that history; they register a source here from ``AppConfig.ready()``.
    """

    def __init__(self) -> None:
        self._sources: dict[str, tuple[Any, HistorySource, int]] = {}

    def register(self, key: str, *, label: Any, source: HistorySource, order: int = 100) -> None:
        self._sources[key] = (label, source, order)

    def facts(self, customer_ids: list[Any]) -> dict[Any, list[HistoryFact]]:
        """Every source's fact for each customer (count 0 where a source knows nothing of it)."""
        result: dict[Any, list[HistoryFact]] = {pk: [] for pk in customer_ids}
        if not customer_ids:
            return result
        for key, (label, source, _order) in sorted(self._sources.items(), key=lambda item: item[1][2]):
            # Keys compared as text: a backend may hand back a UUID or its string.
            answers = {str(pk): value for pk, value in source(list(customer_ids)).items()}
            for pk in customer_ids:
                count, last_at = answers.get(str(pk), (0, None))
                result[pk].append(HistoryFact(key=key, label=label, count=count, last_at=last_at))
        return result


customer_history = HistoryRegistry()
