"""The global search page (/search/): every kind of record, grouped, scoped to what the user may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import ContactMethodFactory, CustomerFactory
from orders.tests.factories import (
    OpportunityFactory,
    ProjectFactory,
    SalesOrderFactory,
    ServiceOrderFactory,
)

pytestmark = pytest.mark.django_db


def search(client, q):
    response = client.get(reverse("global-search"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def amelia(sales_user):
    """The issue's customer: found by email, external id and part of the phone number."""
    customer = CustomerFactory(
        owner=sales_user, name="Amelia Hall", company_name="Hall & Sons Trading", external_id="DEMO-0001014"
    )
    ContactMethodFactory(customer=customer, kind="mobile", value="+86 139 1249 3077")
    ContactMethodFactory(customer=customer, kind="email", value="amelia.hall1014@example.com")
    return customer


@pytest.mark.parametrize(
    "query",
    [
        "amelia.hall1014",  # the start of an email address (the issue)
        "DEMO-0001014",  # the external id (the issue)
        "demo-0001014",  # ... in any case
        "2493",  # part of the phone number's digits (the issue)
        "139-1249-3077",  # the whole phone number, another spelling
        "amelia.hall1014@example.com",  # the whole email
        "Amelia",  # the name
        "Sons Trading",  # the company
    ],
)
def test_global_search_finds_the_customer_by_each_query_of_the_issue(client, sales_user, amelia, query):
    client.force_login(sales_user)
    page = search(client, query)
    assert reverse("customers:customer-detail", args=[amelia.pk]) in page
    assert "Amelia Hall" in page


def test_global_search_finds_orders_tickets_projects_and_opportunities(client, sales_user, amelia):
    order = SalesOrderFactory(customer=amelia, number="SO-2025-000777")
    ticket = ServiceOrderFactory(
        customer=amelia, number="SR-2025-004242", subject="屏幕不亮 Screen stays black"
    )
    project = ProjectFactory(customer=amelia, name="门店改造 Store refit Pudong")
    deal = OpportunityFactory(customer=amelia, name="Annual framework deal Hall")
    client.force_login(sales_user)
    cases = [
        ("so-2025-0007", order.get_absolute_url(), "Sales orders"),
        ("SR-2025-0042", reverse("orders:serviceorder-detail", args=[ticket.pk]), "Tickets"),
        ("stays black", reverse("orders:serviceorder-detail", args=[ticket.pk]), "Tickets"),
        ("屏幕", reverse("orders:serviceorder-detail", args=[ticket.pk]), "Tickets"),
        ("refit pudong", reverse("orders:project-detail", args=[project.pk]), "Projects"),
        ("framework deal", reverse("orders:opportunity-detail", args=[deal.pk]), "Opportunities"),
    ]
    for query, url, kind in cases:
        page = search(client, query)
        assert url in page, query
        assert kind in page, query


def test_global_search_groups_by_kind_with_a_more_link_only_when_there_are_more(client, sales_user):
    for n in range(6):
        customer = CustomerFactory(owner=sales_user, name=f"Zhou Bolt {n}")
        SalesOrderFactory(customer=customer, number=f"BOLT-{n:03d}")
    ProjectFactory(customer=customer, name="Bolt fitting")
    client.force_login(sales_user)
    page = search(client, "bolt")
    more_customers = f"{reverse('customers:index')}?q=bolt"
    assert more_customers in page
    assert f"{reverse('orders:salesorder-list')}?q=bolt" in page
    assert page.count('fw-semibold">Zhou Bolt') == 5  # five per kind, the sixth only announces "more"
    assert f"{reverse('orders:project-list')}?q=bolt" not in page  # one project: all shown, no "more"
    assert "Bolt fitting" in page
    # The "more" list finds them too.
    listing = client.get(more_customers).content.decode()
    assert listing.count("Zhou Bolt") == 6


def test_global_search_never_shows_another_sales_users_records(client, sales_user, other_sales_user):
    theirs = CustomerFactory(owner=other_sales_user, name="Quokka Private", external_id="QK-1")
    ContactMethodFactory(customer=theirs, kind="mobile", value="13755512345")
    ContactMethodFactory(customer=theirs, kind="email", value="quokka@example.com")
    records = [
        theirs,
        SalesOrderFactory(customer=theirs, number="SO-QUOKKA-1"),
        ServiceOrderFactory(customer=theirs, number="SR-QUOKKA-1", subject="Quokka ticket"),
        ProjectFactory(customer=theirs, name="Quokka project"),
        OpportunityFactory(customer=theirs, name="Quokka deal"),
    ]
    client.force_login(sales_user)
    for query in ("quokka", "QK-1", "5551", "13755512345", "quokka@", "SO-QUOKKA", "SR-QUOKKA"):
        page = search(client, query)
        for record in records:
            assert record.get_absolute_url() not in page, (query, record)
        assert "Nothing found" in page, query
    # Their own owner finds every kind.
    client.force_login(other_sales_user)
    page = search(client, "quokka")
    for record in records[:1] + records[2:]:
        assert record.get_absolute_url() in page, record
    assert records[1].get_absolute_url() in search(client, "SO-QUOKKA")


def test_global_search_shows_a_customer_shared_with_the_user(client, sales_user, other_sales_user):
    from customers.models import CustomerShare

    theirs = CustomerFactory(owner=other_sales_user, name="Shared Wombat")
    CustomerShare.objects.create(customer=theirs, user=sales_user)
    client.force_login(sales_user)
    assert "Shared Wombat" in search(client, "wombat")


@pytest.mark.parametrize(
    ("role", "kinds_shown", "kinds_hidden"),
    [
        # docs/roles.md: service agents find any customer and its tickets and orders; no pipeline.
        ("Service", ["Customers", "Tickets", "Sales orders"], ["Opportunities"]),
        # Marketing reads every customer (for segments) and no orders module.
        ("Marketing", ["Customers"], ["Tickets", "Sales orders", "Projects", "Opportunities"]),
        ("Manager", ["Customers", "Tickets", "Sales orders", "Projects", "Opportunities"], []),
    ],
)
def test_global_search_follows_the_role_rules(
    client, make_user, other_sales_user, role, kinds_shown, kinds_hidden
):
    from customers.models import Customer

    user = make_user(f"search-{role.lower()}", role)
    theirs = CustomerFactory(owner=other_sales_user, name="Numbat Retail")
    SalesOrderFactory(customer=theirs, number="NUMBAT-1")
    ServiceOrderFactory(customer=theirs, subject="Numbat screen broken")
    ProjectFactory(customer=theirs, name="Numbat refit")
    OpportunityFactory(customer=theirs, name="Numbat deal")
    client.force_login(user)
    page = search(client, "numbat")
    # The page shows what visible_to gives the role (one rule), and only the kinds it may view.
    assert Customer.objects.visible_to(user).filter(pk=theirs.pk).exists()
    for kind in kinds_shown:
        assert f"</i> {kind}</h2>" in page, kind
    for kind in kinds_hidden:
        assert f"</i> {kind}</h2>" not in page, kind
    assert "Numbat Retail" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x" * 5000, "at most 100 characters"),
        ("!!! ??? ...", "at least one letter or digit"),
        ("%%%", "at least one letter or digit"),
        ("\\", "at least one letter or digit"),
        ("amelia\x00hall", "Null characters are not allowed"),
    ],
)
def test_global_search_answers_bad_input_with_a_message(client, sales_user, amelia, query, message):
    client.force_login(sales_user)
    page = search(client, query)
    assert message in page
    assert "is-invalid" in page
    assert "Amelia Hall" not in page


@pytest.mark.parametrize("query", ["50%", "a_b", "'; DROP TABLE x; --", "(+86)", "  张  "])
def test_global_search_takes_wildcards_and_odd_text_literally(client, sales_user, query):
    CustomerFactory(owner=sales_user, name="Plain Name")
    client.force_login(sales_user)
    page = search(client, query)
    assert "Plain Name" not in page
    assert "Nothing found" in page


def test_global_search_without_a_query_invites_one(client, sales_user, amelia):
    client.force_login(sales_user)
    response = client.get(reverse("global-search"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Type what you are looking for" in page
    assert "Amelia Hall" not in page
    assert "Type what you are looking for" in search(client, "   ")


def test_global_search_needs_a_login(client):
    response = client.get(reverse("global-search"), {"q": "x"})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_navbar_search_box_has_a_label_and_leads_to_the_search_page(client, sales_user):
    client.force_login(sales_user)
    page = client.get(reverse("dashboard")).content.decode()
    assert f'action="{reverse("global-search")}"' in page
    assert '<label class="visually-hidden" for="navbar-search">' in page
    assert 'id="navbar-search"' in page


def test_global_search_in_chinese(client, sales_user, amelia):
    client.force_login(sales_user)
    client.cookies["django_language"] = "zh-hans"
    page = search(client, "zzzz-nothing")
    assert "没有找到" in page
    page = search(client, "2493")
    assert "客户" in page and "Amelia Hall" in page


def test_global_search_orders_newest_first(client, sales_user, amelia):
    now = timezone.now()
    SalesOrderFactory(customer=amelia, number="SO-ORDERED-OLD", ordered_at=now - timedelta(days=9))
    SalesOrderFactory(customer=amelia, number="SO-ORDERED-NEW", ordered_at=now)
    client.force_login(sales_user)
    page = search(client, "SO-ORDERED")
    assert page.index("SO-ORDERED-NEW") < page.index("SO-ORDERED-OLD")
