"""The modules in the navigation bar; a module appears as a link once its app serves ``<app>:index``.

A module whose index page the user's role may not open (its ``permission``, see docs/roles.md) is left
out, so no bar link leads to a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import sees_everything


@dataclass(frozen=True)
class NavItem:
    app: str
    label: str | Promise
    icon: str
    # The permission ``<app>:index`` requires (None: every signed-in user).
    permission: str | None = None
    # A page of a module with a link of its own (the unmatched inbox): its URL name, and the start of the
    # URL names that make it the current link rather than its module's.
    url_name: str = ""
    section: str = ""


MODULES = [
    NavItem("customers", _("Customers"), "people", "customers.view_customer"),
    NavItem("sessions_log", _("Interactions"), "chat-dots", "sessions_log.view_interaction"),
    NavItem(
        "sessions_log",
        _("Inbox"),
        "inbox",
        "sessions_log.view_unmatcheditem",
        url_name="sessions_log:unmatched-list",
        section="sessions_log:unmatched-",
    ),  # fmt: skip
    NavItem(
        "customers",
        _("Data requests"),
        "shield-lock",
        "customers.view_datasubjectrequest",
        url_name="customers:privacy-request-list",
        section="customers:privacy-",
    ),  # fmt: skip
    NavItem("orders", _("Orders"), "receipt", "orders.view_salesorder"),
    NavItem("profiles", _("Profiles"), "person-bounding-box", "profiles.view_customerprofile"),
    NavItem("marketing", _("Marketing"), "megaphone"),
    NavItem("knowledge", _("Knowledge"), "book"),
]


def module_links(user: Any = None) -> list[dict[str, Any]]:
    """Each module ``user`` may open with its URL, or ``url=None`` while the module has no pages yet."""
    # Managers hold every project permission: no need to read them for the bar.
    check = user is not None and not sees_everything(user)
    links = []
    for item in MODULES:
        if check and item.permission and not user.has_perm(item.permission):
            continue
        try:
            url: str | None = reverse(item.url_name or f"{item.app}:index")
        except NoReverseMatch:
            url = None
        links.append(
            {"app": item.app, "label": item.label, "icon": item.icon, "url": url, "section": item.section}
        )
    return links


def mark_current(links: list[dict[str, Any]], *, app: str, view_name: str) -> list[dict[str, Any]]:
    """Each link's ``current``: the link whose section the page's URL name starts with, else its app's."""
    sectioned = next(
        (link for link in links if link["section"] and view_name.startswith(link["section"])), None
    )
    for link in links:
        link["current"] = link is sectioned if sectioned else (link["app"] == app and not link["section"])
    return links
