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


def test_visible_among_is_visible_to_for_the_candidates(sales_user, other_sales_user, manager_user):
    from orders.models import ServiceOrder

    mine = ServiceOrderFactory(customer=CustomerFactory(owner=sales_user))
    theirs = ServiceOrderFactory(customer=CustomerFactory(owner=other_sales_user))
    assigned = ServiceOrderFactory(customer=CustomerFactory(owner=other_sales_user), assignee=sales_user)
    pks = [mine.pk, theirs.pk, assigned.pk]
    for user in (sales_user, other_sales_user, manager_user):
        expected = set(ServiceOrder.objects.visible_to(user).filter(pk__in=pks).values_list("pk", flat=True))
        assert set(ServiceOrder.objects.visible_among(user, pks).values_list("pk", flat=True)) == expected
    assert set(ServiceOrder.objects.visible_among(sales_user, pks).values_list("pk", flat=True)) == {
        mine.pk,
        assigned.pk,
    }


def test_global_search_finds_the_users_rows_past_the_candidates(
    client, sales_user, other_sales_user, monkeypatch
):
    """A common word whose newest matches are all someone else's still finds the user's own ticket."""
    monkeypatch.setattr("orders.selectors.search.CANDIDATES", 3)
    now = timezone.now()
    mine = ServiceOrderFactory(
        customer=CustomerFactory(owner=sales_user), subject="Printer jams", opened_at=now - timedelta(days=30)
    )
    theirs = CustomerFactory(owner=other_sales_user)
    for n in range(4):
        ServiceOrderFactory(customer=theirs, subject=f"Printer jams {n}", opened_at=now - timedelta(hours=n))
    client.force_login(sales_user)
    page = search(client, "printer")
    assert reverse("orders:serviceorder-detail", args=[mine.pk]) in page
    assert page.count("Printer jams") == 1


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_global_search_query_count_is_the_baseline_with_every_kind_found(
    client, sales_user, other_sales_user, manager_user, role
):
    """Hits of every kind (and someone else's among them): the same queries at 3 and 30 of each."""
    from itertools import count

    from crm_site.testing import assert_query_count

    serial = count()

    def grow(k: int) -> None:
        for _ in range(k):
            i = next(serial)
            owner = sales_user if i % 2 else other_sales_user
            customer = CustomerFactory(owner=owner, name=f"Kiwi {i:03d}")
            ContactMethodFactory(customer=customer, kind="email", value=f"kiwi{i}@example.com")
            SalesOrderFactory(customer=customer, number=f"KIWI-{i:04d}")
            ServiceOrderFactory(customer=customer, subject=f"Kiwi ticket {i}")
            ProjectFactory(customer=customer, name=f"Kiwi project {i}")
            OpportunityFactory(customer=customer, name=f"Kiwi deal {i}")

    client.force_login(manager_user if role == "manager" else sales_user)
    name = "global-search every kind" + (" manager" if role == "manager" else "")
    pages = assert_query_count(
        name, lambda: client.get(reverse("global-search"), {"q": "kiwi"}), grow=grow, sizes=(3, 30)
    )
    assert pages[-1].content.decode().count('<section class="card mb-3"') == 5


@pytest.mark.parametrize("query", ["amelia.hall1014", "DEMO-0001014", "2493", "Sons Trading"])
def test_the_customer_list_matches_as_the_global_search_does(
    client, sales_user, other_sales_user, amelia, query
):
    """One matching rule: the customers "more" link lists what the search found."""
    theirs = CustomerFactory(owner=other_sales_user, name="Other Hall")
    ContactMethodFactory(customer=theirs, kind="mobile", value="13812493000")
    client.force_login(sales_user)
    listing = client.get(reverse("customers:index"), {"q": query}).content.decode()
    assert reverse("customers:customer-detail", args=[amelia.pk]) in listing
    assert reverse("customers:customer-detail", args=[theirs.pk]) not in listing
