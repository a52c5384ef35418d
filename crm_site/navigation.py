"""The modules in the navigation bar; a module appears as a link once its app serves ``<app>:index``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    app: str
    label: str | Promise
    icon: str


MODULES = [
    NavItem("customers", _("Customers"), "people"),
    NavItem("sessions_log", _("Interactions"), "chat-dots"),
    NavItem("orders", _("Orders"), "receipt"),
    NavItem("profiles", _("Profiles"), "person-bounding-box"),
    NavItem("marketing", _("Marketing"), "megaphone"),
    NavItem("knowledge", _("Knowledge"), "book"),
]


def module_links() -> list[dict[str, Any]]:
    """Each module with its URL, or ``url=None`` while the module has no pages yet."""
    links = []
    for item in MODULES:
        try:
            url: str | None = reverse(f"{item.app}:index")
        except NoReverseMatch:
            url = None
        links.append({"app": item.app, "label": item.label, "icon": item.icon, "url": url})
    return links
