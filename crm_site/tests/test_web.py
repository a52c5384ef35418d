"""The shared web plumbing: the action view's safe ``next`` and the count-free paginator."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_site.paging import CountFreePaginator
from customers.tests.factories import CustomerFactory, PartnerFactory, RelationshipFactory
from orders.models import SalesOrder
from orders.tests.factories import OrderLineFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db

OFF_SITE = ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "http:/\\evil.example"]


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_action_views_ignore_an_off_site_next(client, sales_user, next_url):
    customer = CustomerFactory(owner=sales_user)
    order = SalesOrderFactory(customer=customer, status=SalesOrder.Status.DRAFT)
    client.force_login(sales_user)
    response = client.post(
        reverse("orders:salesorder-transition", args=[order.pk]), {"status": "cancelled", "next": next_url}
    )
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    link = RelationshipFactory(customer=customer, related_customer=CustomerFactory(owner=sales_user))
    response = client.post(
        reverse("customers:relationship-delete", args=[customer.pk, link.pk]), {"next": next_url}
    )
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()


def test_action_views_return_to_a_local_next_page(client, sales_user):
    order = SalesOrderFactory(customer=CustomerFactory(owner=sales_user), status=SalesOrder.Status.DRAFT)
    line = OrderLineFactory(order=order)
    client.force_login(sales_user)
    back = reverse("orders:salesorder-list")
    response = client.post(reverse("orders:orderline-remove", args=[order.pk, line.pk]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert not order.lines.exists()


def test_action_views_refuse_get(client, sales_user):
    order = SalesOrderFactory(customer=CustomerFactory(owner=sales_user), status=SalesOrder.Status.DRAFT)
    client.force_login(sales_user)
    assert client.get(reverse("orders:salesorder-transition", args=[order.pk])).status_code == 405
    order.refresh_from_db()
    assert order.status == SalesOrder.Status.DRAFT


def _sql(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"].upper() for query in queries.captured_queries]


@pytest.mark.parametrize(
    "url_name", ["orders:salesorder-list", "customers:partner-list", "customers:import-list"]
)
def test_list_pages_never_count_their_rows(client, manager_user, url_name):
    customer = CustomerFactory(owner=manager_user)
    for _ in range(30):
        SalesOrderFactory(customer=customer)
        PartnerFactory()
    client.force_login(manager_user)
    # Django's Paginator counts on every page, the first included.
    assert not [sql for sql in _sql(client, reverse(url_name)) if "COUNT(" in sql]


def test_a_second_list_page_is_one_query_without_a_count(client, manager_user):
    customer = CustomerFactory(owner=manager_user)
    orders = [SalesOrderFactory(customer=customer) for _ in range(30)]
    client.force_login(manager_user)
    url = reverse("orders:salesorder-list")
    second = client.get(url + "?page=2")
    assert len(second.context["orders"]) == 5 and second.context["page_obj"].has_previous()
    assert not second.context["page_obj"].has_next()
    assert {order.pk for order in second.context["orders"]} <= {order.pk for order in orders}
    assert not [sql for sql in _sql(client, url + "?page=2") if "COUNT(" in sql]


def test_count_free_paginator_knows_the_next_page_from_one_extra_row():
    paginator = CountFreePaginator(list(range(51)), 25)
    first, third = paginator.page(1), paginator.page(3)
    assert (list(first.object_list), first.has_next(), first.has_previous()) == (list(range(25)), True, False)
    assert (list(third.object_list), third.has_next(), third.has_previous()) == ([50], False, True)
    assert (third.start_index(), third.end_index()) == (51, 51)
    assert not CountFreePaginator(list(range(50)), 25).page(2).has_next()
    # By hand: an unusable number is page 1, a page past the end is empty (never an error).
    assert paginator.get_page("junk").number == 1 and paginator.get_page("99").object_list == []


def test_keyset_page_walks_any_model_forwards_and_back_without_a_count(sales_user):
    from crm_site.paging import keyset_page

    customer = CustomerFactory(owner=sales_user)
    numbers = sorted(SalesOrderFactory(customer=customer).number for _ in range(7))
    qs = SalesOrder.objects.all()
    seen, cursor, pages = [], None, []
    with CaptureQueriesContext(connection) as queries:
        while True:
            page = keyset_page(qs, field="number", cursor=cursor, size=3)
            pages.append(page)
            seen += [order.number for order in page.rows]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
    assert seen == numbers and len(queries) == 3
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    back = keyset_page(qs, field="number", cursor=pages[-1].prev_cursor, size=3)
    assert [order.number for order in back.rows] == numbers[3:6]
    # A cursor of the wrong kind (text where a datetime is sorted on) is ignored: the first page.
    assert keyset_page(qs, field="created_at", kind="datetime", cursor=page.prev_cursor, size=3).is_first
