"""Orders list pages: each filter narrows, and a bad query string is the form's error, never a 500."""

import uuid

import pytest
from django.urls import reverse

from orders.tests.factories import (
    CustomerFactory,
    OpportunityFactory,
    ProductFactory,
    ProjectFactory,
    SalesOrderFactory,
    ServiceOrderFactory,
)


def _get(client, name, query=""):
    return client.get(reverse(f"orders:{name}") + ("?" + query if query else ""))


@pytest.mark.django_db
def test_sales_order_filters_narrow(client, sales_user, own_customer):
    other = CustomerFactory(name="Second Buyer", owner=sales_user)
    SalesOrderFactory(number="SO-A", customer=own_customer, status="paid", channel="web")
    SalesOrderFactory(number="SO-B", customer=other, status="draft", channel="store")
    client.force_login(sales_user)
    cases = {
        "q=SO-A": {"SO-A"},
        "q=Second": {"SO-B"},
        "status=draft": {"SO-B"},
        "channel=web": {"SO-A"},
        f"customer={other.pk}": {"SO-B"},
        "": {"SO-A", "SO-B"},
    }
    for query, expected in cases.items():
        response = _get(client, "salesorder-list", query)
        assert response.status_code == 200, query
        assert {o.number for o in response.context["orders"]} == expected, query


@pytest.mark.django_db
def test_ticket_filters_narrow(client, sales_user, own_customer):
    ServiceOrderFactory(
        number="SR-A",
        customer=own_customer,
        subject="Broken screen",
        priority="urgent",
        status="new",
        sla_breached=True,
        assignee=sales_user,
    )
    ServiceOrderFactory(
        number="SR-B", customer=own_customer, subject="Question", priority="low", status="closed"
    )
    client.force_login(sales_user)
    cases = {
        "q=screen": {"SR-A"},
        "status=open": {"SR-A"},
        "status=closed": {"SR-B"},
        "priority=low": {"SR-B"},
        "breached=1": {"SR-A"},
        "mine=1": {"SR-A"},
        "": {"SR-A", "SR-B"},
    }
    for query, expected in cases.items():
        response = _get(client, "serviceorder-list", query)
        assert response.status_code == 200, query
        assert {t.number for t in response.context["tickets"]} == expected, query


@pytest.mark.django_db
def test_project_and_opportunity_filters_narrow(client, sales_user, own_customer):
    ProjectFactory(name="Fit-out", customer=own_customer, stage="active")
    ProjectFactory(name="Audit", customer=own_customer, stage="done")
    OpportunityFactory(name="Big deal", customer=own_customer, stage="proposal")
    OpportunityFactory(name="Small deal", customer=own_customer, stage="won")
    client.force_login(sales_user)
    for query, expected in {"q=Fit": {"Fit-out"}, "stage=done": {"Audit"}, "": {"Fit-out", "Audit"}}.items():
        response = _get(client, "project-list", query)
        assert {p.name for p in response.context["projects"]} == expected, query
    for query, expected in {
        "q=Big": {"Big deal"},
        "stage=won": {"Small deal"},
        "": {"Big deal", "Small deal"},
    }.items():
        response = _get(client, "opportunity-list", query)
        assert {o.name for o in response.context["opportunities"]} == expected, query


@pytest.mark.django_db
def test_product_filters_narrow(client, sales_user):
    ProductFactory(sku="TEA-1", name="Green tea", active=True)
    ProductFactory(sku="OLD-1", name="Old kettle", active=False)
    client.force_login(sales_user)
    for query, expected in {"q=tea": {"TEA-1"}, "active=1": {"TEA-1"}, "": {"TEA-1", "OLD-1"}}.items():
        response = _get(client, "product-list", query)
        assert response.status_code == 200
        assert {p.sku for p in response.context["products"]} == expected, query


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("salesorder-list", "customer=not-a-uuid"),
        ("salesorder-list", "status=stolen"),
        ("salesorder-list", "channel=telepathy"),
        ("salesorder-list", "q=%00"),
        ("index", "customer=not-a-uuid"),
        ("serviceorder-list", "status=whatever"),
        ("serviceorder-list", "priority=asap"),
        ("project-list", "stage=dreaming"),
        ("opportunity-list", "stage=hoping"),
        ("opportunity-list", "q=" + "x" * 1200),
        ("product-list", "q=%00"),
    ],
)
def test_bad_list_query_shows_the_error_and_no_rows(client, sales_user, own_customer, name, query):
    SalesOrderFactory(customer=own_customer)
    ServiceOrderFactory(customer=own_customer)
    ProjectFactory(customer=own_customer)
    OpportunityFactory(customer=own_customer)
    ProductFactory()
    client.force_login(sales_user)
    response = _get(client, name, query)
    assert response.status_code == 200
    assert 'id="filter-errors"' in response.content.decode()
    assert list(response.context["object_list"]) == []


@pytest.mark.django_db
def test_unknown_customer_uuid_filter_is_an_empty_list_not_an_error(client, sales_user, own_customer):
    SalesOrderFactory(customer=own_customer)
    client.force_login(sales_user)
    response = _get(client, "salesorder-list", f"customer={uuid.uuid4()}")
    assert response.status_code == 200
    assert 'id="filter-errors"' not in response.content.decode()
    assert list(response.context["orders"]) == []


@pytest.mark.django_db
def test_bad_page_number_is_a_404_not_a_500(client, sales_user):
    client.force_login(sales_user)
    assert _get(client, "salesorder-list", "page=garbage").status_code == 404
