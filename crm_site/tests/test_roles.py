"""The role matrix walked (docs/roles.md): every role opens every module's pages against A's records.

The world is the second-user walk's (``second_user_table.build_world``): A (Sales) owns a private
customer with an order, a ticket, a project, an opportunity and a portrait; nothing of it is shared. Each
``ROW`` says, per role, the exact status of one action (view a list or a record, create, edit, delete,
export) and, for a page that lists or shows records, whether A's records appear on it. The roles:

- ``owner``: A, the Sales user who owns the records;
- ``sales``: B, another Sales user (sees their own and shared only);
- ``manager``: a Manager (everything);
- ``service``: a Service agent (reads every customer, works every ticket);
- ``marketing``: a Marketing user (reads every customer and portrait, manages segments);
- ``editor``: a Knowledge editor (no customer data at all).

A record the user may not see answers 404; a page (or an action on a record the user can read) that the
role may not use answers 403. ``docs/roles.md`` carries this very table (``test_docs_show_the_walked_table``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from crm_site.tests.second_user_table import World, build_world
from crm_site.tests.test_second_user import body_of

pytestmark = pytest.mark.django_db

ROLES = ("owner", "sales", "manager", "service", "marketing", "editor")
ROLE_GROUPS = {
    "manager": "Manager",
    "service": "Service",
    "marketing": "Marketing",
    "editor": "KnowledgeEditor",
}


def per_role(*statuses: int) -> dict[str, int]:
    """Statuses in ROLES order: owner, sales, manager, service, marketing, editor."""
    assert len(statuses) == len(ROLES)
    return dict(zip(ROLES, statuses, strict=True))


def seen_by(*roles: str) -> frozenset[str]:
    return frozenset(roles)


# Who sees every customer's records on the pages that list or show them.
EVERY_CUSTOMER = seen_by("owner", "manager", "service", "marketing")
ORDER_READERS = seen_by("owner", "manager", "service")


@dataclass(frozen=True)
class Row:
    """One module x action: the URL, what each role gets, and who sees A's records on the answer."""

    module: str
    action: str
    url_name: str
    expected: dict[str, int]
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    method: str = "GET"
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    query: Callable[[World], dict[str, Any]] = lambda w: {}
    # The marker of A's records the answer must show to these roles (and to no other role that gets 200).
    marker: str = ""
    seen_by: frozenset[str] = field(default_factory=frozenset)


def a(key: str, name: str = "pk") -> Callable[[World], dict[str, Any]]:
    return lambda w: {name: w[key].pk}


def _ticket(w: World) -> dict[str, Any]:
    return {"customer": "EXT-ALPHA", "subject": "Printer on fire", "type": "complaint", "priority": "high"}


ROWS: list[Row] = [
    # --- customers (and their partners, imports, merge)
    Row("customers", "view list", "customers:index", per_role(200, 200, 200, 200, 200, 403),
        query=lambda w: {"q": "Zz Alpha"}, marker="Zz Alpha Private", seen_by=EVERY_CUSTOMER),
    Row("customers", "view record", "customers:customer-detail", per_role(200, 404, 200, 200, 200, 403),
        kwargs=a("a_customer"), marker="Zz Alpha Private", seen_by=EVERY_CUSTOMER),
    Row("customers", "create", "customers:customer-create", per_role(200, 200, 200, 403, 403, 403)),
    Row("customers", "edit", "customers:customer-update", per_role(200, 404, 200, 403, 403, 403),
        kwargs=a("a_customer")),
    Row("customers", "delete", "customers:customer-delete", per_role(403, 404, 200, 403, 403, 404),
        kwargs=a("a_customer")),
    Row("customers", "export", "customers:customer-export", per_role(200, 200, 200, 403, 403, 403),
        kwargs=lambda w: {"file_format": "csv"}, marker="Zz Alpha Private",
        seen_by=seen_by("owner", "manager")),
    Row("customers", "view duplicates", "customers:duplicate-list", per_role(200, 200, 200, 200, 200, 403)),
    Row("customers", "merge", "customers:customer-merge", per_role(200, 404, 200, 403, 403, 404),
        kwargs=lambda w: {"pk": w["a_customer"].pk, "other": w["a_twin"].pk}),
    Row("customers", "share", "customers:customer-sharing", per_role(200, 404, 200, 403, 403, 404),
        kwargs=a("a_customer")),
    Row("customers", "view imports", "customers:import-list", per_role(200, 200, 200, 403, 403, 403)),
    Row("customers", "view partners", "customers:partner-list", per_role(200, 200, 200, 200, 200, 403)),
    # One masked value in full, for a reason (issue 13): roles that see personal data have nothing to reveal.
    Row("customers", "reveal a personal value", "customers:customer-reveal",
        per_role(403, 404, 200, 403, 200, 403), kwargs=a("a_customer"), method="POST",
        data=lambda w: {"field": f"address:{w['a_customer'].addresses.get().pk}:street", "reason": "walk"},
        marker="Zz Alpha Secret Road", seen_by=seen_by("manager", "marketing")),
    # --- data-subject requests (issue 13): the Manager's only
    Row("data-subject requests", "view list", "customers:privacy-request-list",
        per_role(403, 403, 200, 403, 403, 403)),
    Row("data-subject requests", "create", "customers:privacy-request-create",
        per_role(403, 403, 200, 403, 403, 403)),
    Row("data-subject requests", "view record", "customers:privacy-request-detail",
        per_role(403, 403, 200, 403, 403, 403), kwargs=a("a_dsr")),
    Row("data-subject requests", "erase (confirmation step)", "customers:privacy-request-erase",
        per_role(403, 403, 200, 403, 403, 403), kwargs=a("a_dsr")),
    # --- sales orders
    Row("sales orders", "view list", "orders:salesorder-list", per_role(200, 200, 200, 200, 403, 403),
        marker="SO-ZZ-ALPHA", seen_by=ORDER_READERS),
    Row("sales orders", "view record", "orders:salesorder-detail", per_role(200, 404, 200, 200, 403, 403),
        kwargs=a("a_order"), marker="SO-ZZ-ALPHA", seen_by=ORDER_READERS),
    Row("sales orders", "create", "orders:salesorder-create", per_role(200, 200, 200, 403, 403, 403)),
    Row("sales orders", "edit", "orders:salesorder-edit", per_role(200, 404, 200, 403, 403, 403),
        kwargs=a("a_order")),
    Row("sales orders", "change status", "orders:salesorder-transition",
        per_role(302, 404, 302, 403, 403, 403), kwargs=a("a_order"), method="POST",
        data=lambda w: {"status": "cancelled"}),
    Row("sales orders", "import", "orders:import-create", per_role(200, 200, 200, 403, 403, 403)),
    # --- service orders (tickets)
    Row("tickets", "view list", "orders:serviceorder-list", per_role(200, 200, 200, 200, 403, 403),
        marker="SR-ZZ-ALPHA", seen_by=ORDER_READERS),
    Row("tickets", "view record", "orders:serviceorder-detail", per_role(200, 404, 200, 200, 403, 403),
        kwargs=a("a_ticket"), marker="SR-ZZ-ALPHA", seen_by=ORDER_READERS),
    # B cannot pick A's customer (the form says so: 200); the service agent opens the ticket.
    Row("tickets", "create", "orders:serviceorder-create", per_role(302, 200, 302, 302, 403, 403),
        method="POST", data=_ticket),
    Row("tickets", "edit", "orders:serviceorder-edit", per_role(200, 404, 200, 200, 403, 403),
        kwargs=a("a_ticket")),
    Row("tickets", "work (change status)", "orders:serviceorder-transition",
        per_role(302, 404, 302, 302, 403, 403), kwargs=a("a_ticket"), method="POST",
        data=lambda w: {"status": "in_progress", "resolution": ""}),
    # --- projects and opportunities
    Row("projects", "view list", "orders:project-list", per_role(200, 200, 200, 200, 403, 403),
        marker="Zz Alpha Project", seen_by=ORDER_READERS),
    Row("projects", "view record", "orders:project-detail", per_role(200, 404, 200, 200, 403, 403),
        kwargs=a("a_project")),
    Row("projects", "edit", "orders:project-edit", per_role(200, 404, 200, 403, 403, 403),
        kwargs=a("a_project")),
    Row("opportunities", "view list", "orders:opportunity-board", per_role(200, 200, 200, 403, 403, 403),
        marker="Zz Alpha Deal", seen_by=seen_by("owner", "manager")),
    Row("opportunities", "view record", "orders:opportunity-detail", per_role(200, 404, 200, 403, 403, 403),
        kwargs=a("a_opportunity")),
    Row("opportunities", "create", "orders:opportunity-create", per_role(200, 200, 200, 403, 403, 403)),
    # --- catalogue and reports
    Row("products", "view list", "orders:product-list", per_role(200, 200, 200, 200, 403, 403)),
    Row("products", "create", "orders:product-create", per_role(403, 403, 200, 403, 403, 403)),
    Row("reports", "view", "orders:reports", per_role(403, 403, 200, 403, 403, 403)),
    # --- profiles: portraits, segments, runs
    Row("portraits", "view overview", "profiles:index", per_role(200, 200, 200, 200, 200, 403)),
    Row("portraits", "view record", "profiles:profile-detail", per_role(200, 404, 200, 200, 200, 403),
        kwargs=a("a_customer", "customer_pk"), marker="Zz Alpha Private", seen_by=EVERY_CUSTOMER),
    Row("segments", "view list", "profiles:segment-list", per_role(200, 200, 200, 200, 200, 403)),
    Row("segments", "view members", "profiles:segment-detail", per_role(200, 200, 200, 200, 200, 403),
        kwargs=a("segment"), marker="Zz Alpha Private", seen_by=EVERY_CUSTOMER),
    Row("segments", "export members", "profiles:segment-export", per_role(200, 200, 200, 200, 200, 403),
        kwargs=a("segment"), marker="Zz Alpha Private", seen_by=EVERY_CUSTOMER),
    Row("segments", "create", "profiles:segment-create", per_role(403, 403, 200, 403, 200, 403)),
    Row("segments", "edit", "profiles:segment-update", per_role(403, 403, 200, 403, 200, 403),
        kwargs=a("segment")),
    Row("segments", "delete", "profiles:segment-delete", per_role(403, 403, 302, 403, 302, 403),
        kwargs=a("segment"), method="POST"),
    Row("profile runs", "rebuild", "profiles:run-create", per_role(403, 403, 200, 403, 403, 403)),
    # --- the unmatched inbox: what A received is A's, Service's and managers'
    Row("unmatched inbox", "view list", "sessions_log:unmatched-list", per_role(200, 200, 200, 200, 403, 403),
        marker="Zz Alpha Mail", seen_by=seen_by("owner", "manager", "service")),
    Row("unmatched inbox", "view item", "sessions_log:unmatched-detail",
        per_role(200, 404, 200, 200, 403, 403), kwargs=a("a_mail_for_file"), marker="Zz Alpha Mail",
        seen_by=seen_by("owner", "manager", "service")),
    # --- the dashboard and the admin site
    Row("dashboard", "view", "dashboard", per_role(200, 200, 200, 200, 200, 200)),
    Row("admin", "view", "admin:index", per_role(302, 302, 200, 302, 302, 302)),
]  # fmt: skip


@pytest.fixture
def role_world(sales_user, other_sales_user, make_user, settings, tmp_path) -> tuple[World, dict[str, Any]]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    world = build_world(a=sales_user, b=other_sales_user, make_user=make_user)
    users = {"owner": sales_user, "sales": other_sales_user}
    for role, group in ROLE_GROUPS.items():
        users[role] = make_user(f"role_{role}", group)
    return world, users


def _cases() -> list[Any]:
    return [
        pytest.param(row, role, id=f"{role} {row.module}: {row.action} ({row.method} {row.url_name})")
        for row in ROWS
        for role in ROLES
    ]


@pytest.mark.parametrize(("row", "role"), _cases())
def test_every_role_gets_what_the_matrix_says(client, role_world, row, role):
    world, users = role_world
    client.force_login(users[role])
    url = reverse(row.url_name, kwargs=row.kwargs(world))
    if row.method == "GET":
        response = client.get(url, row.query(world))
    else:
        response = client.post(url, row.data(world))
    expected = row.expected[role]
    case = f"{role}: {row.method} {url} ({row.module}, {row.action})"
    assert response.status_code == expected, f"{case} answered {response.status_code}, expected {expected}"
    if row.marker and response.status_code == 200:
        shown = row.marker in body_of(response)
        assert shown == (role in row.seen_by), f"{case}: A's records {'shown' if shown else 'missing'}"


def test_the_matrix_covers_every_role_for_every_row():
    for row in ROWS:
        assert set(row.expected) == set(ROLES), row
        assert row.seen_by <= set(ROLES), row


# --- the dashboard: each role's cards, and no link on it leads to a 403


def _links(html: str) -> list[str]:
    return sorted({href for href in re.findall(r'href="(/[^"#]*)"', html) if not href.startswith("/static/")})


@pytest.mark.parametrize("role", ROLES)
def test_no_dashboard_or_navigation_link_is_forbidden_to_the_role(client, role_world, role):
    world, users = role_world
    client.force_login(users[role])
    html = client.get(reverse("dashboard")).content.decode()
    links = _links(html.replace("&amp;", "&"))
    assert links
    refused = [link for link in links if client.get(link).status_code == 403]
    assert not refused, f"{role}: dashboard/navigation links answering 403: {refused}"


def test_the_manager_dashboard_shows_the_teams_tickets_and_pipeline(client, role_world):
    world, users = role_world
    client.force_login(users["manager"])
    html = client.get(reverse("dashboard")).content.decode()
    assert "Team tickets and pipeline" in html
    # A's open ticket and open opportunity are the team's: not "0" / nothing.
    assert "Open tickets assigned to me" not in html
    assert "Team&#x27;s open pipeline" in html or "Team's open pipeline" in html


def test_the_service_dashboard_is_the_ticket_queue(client, role_world):
    from orders.selectors import dashboard_summary

    world, users = role_world
    summary = dashboard_summary(user=users["service"])
    assert summary is not None
    assert summary["scope"] == "queue"
    assert summary["open_tickets"] == 1  # A's ticket, assigned to nobody
    assert summary["unassigned"] == 1 and summary["mine"] == 0
    assert not summary["show_pipeline"]
    client.force_login(users["service"])
    html = client.get(reverse("dashboard")).content.decode()
    assert "Ticket queue" in html and "Pipeline board" not in html


def test_the_marketing_dashboard_shows_segments_and_no_orders_card(client, role_world):
    world, users = role_world
    client.force_login(users["marketing"])
    html = client.get(reverse("dashboard")).content.decode()
    assert "Ticket queue" not in html and "My tickets and pipeline" not in html
    assert reverse("profiles:segment-create") in html
    assert "1 segment (1 written by hand)." in html


def test_the_sales_dashboard_stays_their_own(role_world):
    from orders.selectors import dashboard_summary

    world, users = role_world
    assert dashboard_summary(user=users["sales"])["scope"] == "mine"
    assert dashboard_summary(user=users["sales"])["pipeline_count"] == 0
    assert dashboard_summary(user=users["editor"]) is None


# --- what the walked rows do to the data


def test_a_service_agent_opens_and_works_a_ticket_on_another_users_customer(client, role_world):
    from orders.models import ServiceOrder

    world, users = role_world
    client.force_login(users["service"])
    response = client.post(reverse("orders:serviceorder-create"), _ticket(world))
    assert response.status_code == 302
    ticket = ServiceOrder.objects.get(subject="Printer on fire")
    assert ticket.customer == world["a_customer"] and ticket.owner == users["service"]
    response = client.post(
        reverse("orders:serviceorder-transition", kwargs={"pk": world["a_ticket"].pk}),
        {"status": "in_progress", "resolution": ""},
    )
    assert response.status_code == 302
    world["a_ticket"].refresh_from_db()
    assert world["a_ticket"].status == "in_progress"
    # The customer itself stays A's to edit.
    assert (
        client.get(reverse("customers:customer-update", kwargs={"pk": world["a_customer"].pk})).status_code
        == 403
    )


def test_marketing_deletes_a_manual_segment_but_not_an_automatic_one(client, role_world):
    from profiles.models import Segment

    world, users = role_world
    client.force_login(users["marketing"])
    automatic = Segment.objects.create(name="Champions", kind=Segment.Kind.RFM, key="champions", rule=[])
    client.post(reverse("profiles:segment-delete", kwargs={"pk": automatic.pk}))
    assert Segment.objects.filter(pk=automatic.pk).exists()
    client.post(reverse("profiles:segment-delete", kwargs={"pk": world["segment"].pk}))
    assert not Segment.objects.filter(pk=world["segment"].pk).exists()


# --- docs/roles.md shows the walked table


def matrix_markdown() -> str:
    """The walked table as Markdown: one line per row, a status per role (✓ marks "sees A's records")."""
    head = "| module | action | URL | " + " | ".join(ROLES) + " |"
    lines = [head, "|" + "---|" * (3 + len(ROLES))]
    for row in ROWS:
        cells = [f"{row.expected[role]}{' ✓' if role in row.seen_by else ''}" for role in ROLES]
        lines.append(
            f"| {row.module} | {row.action} | `{row.method} {row.url_name}` | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def test_docs_show_the_walked_table():
    text = (Path(settings.BASE_DIR) / "docs" / "roles.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- walked-table:start -->\n(.*?)\n<!-- walked-table:end -->", text, re.S)
    assert match, "docs/roles.md lacks the walked-table block"
    assert match.group(1).strip() == matrix_markdown(), (
        "docs/roles.md's walked table differs from crm_site/tests/test_roles.py ROWS; paste this:\n"
        + matrix_markdown()
    )
