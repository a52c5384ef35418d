"""Extension points filled by the apps, so that no app imports a higher one.

The customer detail page shows a panel per app (orders, interactions, profile, campaigns...), and the
dashboard shows a card per app; each app registers its own in ``AppConfig.ready()``.
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
    context: Callable[..., dict[str, Any]]
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
        """Each panel with its context computed from ``kwargs`` (e.g. customer=..., user=...)."""
        return [(panel, panel.context(**kwargs)) for panel in self.panels()]


customer_panels = PanelRegistry()
dashboard_cards = PanelRegistry()
