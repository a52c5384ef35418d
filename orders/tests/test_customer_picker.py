"""Picking a customer on the order, ticket, project and opportunity forms: by name, without JavaScript.

The no-JavaScript flow is a search-then-choose step: typing a name that several customers share (or
part of one) brings the form back with those customers as radio buttons; choosing one saves. Another
sales user's customers are never listed, never accepted, and their names never appear.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from customers.models import CustomerShare
from customers.tests.factories import ContactMethodFactory
from orders.models import Opportunity, Project, SalesOrder, ServiceOrder
from orders.tests.factories import (
    CustomerFactory,
    OpportunityFactory,
    ProjectFactory,
    SalesOrderFactory,
    ServiceOrderFactory,
)

pytestmark = pytest.mark.django_db

ORDER = {"channel": "web", "ordered_at": "2026-01-05T10:00", "currency": "CNY", "order_discount": "0"}
FORMS = {
    "orders:salesorder-create": (SalesOrder, ORDER),
    "orders:serviceorder-create": (
        ServiceOrder,
        {"subject": "Broken", "type": "consultation", "priority": "low"},
    ),
    "orders:project-create": (
        Project,
        {"name": "Fit-out", "stage": "planning", "currency": "CNY", "budget": "0"},
    ),
    "orders:opportunity-create": (
        Opportunity,
        {"name": "Deal", "stage": "qualification", "amount": "10", "currency": "CNY"},
    ),
}


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


def _picker(html: str) -> str:
    """The customer field's own markup (the page elsewhere repeats the query string, e.g. language links)."""
    return html.split('<div class="customer-picker')[1].split("<script")[0]


def _radios(html: str) -> list[str]:
    return re.findall(r'type="radio" name="customer_pick"[^>]*value="([0-9a-f-]{36})"', html)


@pytest.fixture
def namesakes(sales_user, other_sales_user):
    first = CustomerFactory(name="陈静 Chen Jing", owner=sales_user, external_id="CJ-1")
    ContactMethodFactory(customer=first, kind="mobile", value="139 1234 5678", is_primary=True)
    second = CustomerFactory(name="陈静 Chen Jing", owner=sales_user)
    ContactMethodFactory(customer=second, kind="email", value="chen.jing@example.com")
    theirs = CustomerFactory(name="陈静 Chen Jing-Private", owner=other_sales_user, external_id="CJ-THEIRS")
    return first, second, theirs


@pytest.mark.parametrize("url_name", list(FORMS))
def test_typing_a_shared_name_lists_only_visible_customers_then_choosing_saves(
    sales_client, namesakes, url_name
):
    model, data = FORMS[url_name]
    first, second, theirs = namesakes
    url = reverse(url_name)
    response = sales_client.post(url, {"customer": "Chen Jing", **data})
    html = response.content.decode()
    assert response.status_code == 200 and not model.objects.exists()
    assert "Several customers match “Chen Jing”: choose one of them." in html
    assert sorted(_radios(html)) == sorted([str(first.pk), str(second.pk)])
    assert "Private" not in html and "CJ-THEIRS" not in html  # another user's namesake stays invisible
    assert "陈静 Chen Jing · 139 1234 5678 · CJ-1" in html  # what tells the two apart
    assert "陈静 Chen Jing · chen.jing@example.com" in html

    response = sales_client.post(url, {"customer": "Chen Jing", "customer_pick": str(second.pk), **data})
    assert response.status_code == 302
    assert model.objects.get().customer == second


def test_an_exact_external_id_phone_or_unique_name_is_taken_at_once(sales_client, namesakes):
    first, _second, _theirs = namesakes
    url = reverse("orders:salesorder-create")
    for typed in ("CJ-1", "13912345678", "+86 139-1234-5678"):
        assert sales_client.post(url, {"customer": typed, **ORDER}).status_code == 302
    unique = CustomerFactory(name="Amelia Hall", owner=first.owner)
    assert sales_client.post(url, {"customer": "amelia hall", **ORDER}).status_code == 302
    assert SalesOrder.objects.filter(customer=first).count() == 3
    assert SalesOrder.objects.filter(customer=unique).count() == 1


def test_a_partial_name_asks_to_confirm_the_one_match(sales_client, own_customer):
    url = reverse("orders:salesorder-create")
    html = sales_client.post(url, {"customer": "Wang", **ORDER}).content.decode()
    assert "Is it this customer? Choose it to confirm." in html
    assert _radios(html) == [str(own_customer.pk)]
    assert "checked" in html.split('name="customer_pick"')[1].split(">")[0]


def test_another_users_customer_is_neither_listed_nor_accepted(sales_client, others_customer):
    url = reverse("orders:salesorder-create")
    for typed in ("Li Na", "C-OTHER", str(others_customer.pk)):
        html = sales_client.post(url, {"customer": typed, **ORDER}).content.decode()
        assert f"No customer you can see matches “{typed}”." in html
        assert "李娜" not in html
    # A forged choice (the radio value) or hidden id of someone else's customer is refused too.
    forged = sales_client.post(url, {"customer": "x", "customer_pick": str(others_customer.pk), **ORDER})
    assert "Choose one of the customers listed." in forged.content.decode()
    hidden = sales_client.post(
        url, {"customer": others_customer.name, "customer_id": str(others_customer.pk), **ORDER}
    )
    assert "No customer you can see matches “Li Na 李娜”." in hidden.content.decode()
    assert not SalesOrder.objects.exists()


def test_shared_customer_can_be_picked(sales_client, sales_user, others_customer):
    CustomerShare.objects.create(customer=others_customer, user=sales_user)
    response = sales_client.post(reverse("orders:salesorder-create"), {"customer": "C-OTHER", **ORDER})
    assert response.status_code == 302 and SalesOrder.objects.get().customer == others_customer


@pytest.mark.parametrize("url_name", list(FORMS))
def test_new_form_from_the_customer_page_shows_the_customer_by_name_never_its_id(
    sales_client, own_customer, url_name
):
    ContactMethodFactory(customer=own_customer, kind="mobile", value="13800138000")
    html = sales_client.get(reverse(url_name), {"customer": str(own_customer.pk)}).content.decode()
    picker = _picker(html)
    assert 'value="王芳 Wang Fang · 13800138000 · C-OWN"' in picker
    # The id travels only in the hidden input.
    assert picker.count(str(own_customer.pk)) == 1
    assert f'type="hidden" name="customer_id" value="{own_customer.pk}"' in picker


def test_preselecting_another_users_customer_shows_nothing(sales_client, others_customer):
    html = sales_client.get(
        reverse("orders:salesorder-create"), {"customer": str(others_customer.pk)}
    ).content.decode()
    assert "李娜" not in html and str(others_customer.pk) not in _picker(html)


def test_preselected_customer_submits_through_the_hidden_id(sales_client, namesakes):
    first, _second, _theirs = namesakes
    label = "陈静 Chen Jing · 139 1234 5678 · CJ-1"
    response = sales_client.post(
        reverse("orders:serviceorder-create"),
        {"customer": label, "customer_id": str(first.pk), **FORMS["orders:serviceorder-create"][1]},
    )
    assert response.status_code == 302 and ServiceOrder.objects.get().customer == first


def test_editing_the_text_without_javascript_searches_again(sales_client, namesakes):
    first, second, _theirs = namesakes
    response = sales_client.post(
        reverse("orders:salesorder-create"),
        {"customer": "chen.jing@example.com", "customer_id": str(first.pk), **ORDER},
    )
    assert response.status_code == 302 and SalesOrder.objects.get().customer == second


def test_edit_form_shows_the_customer_label_and_keeps_it(sales_client, own_customer):
    order = SalesOrder.objects.create(customer=own_customer, owner=own_customer.owner, number="SO-1")
    url = reverse("orders:salesorder-edit", args=[order.pk])
    html = sales_client.get(url).content.decode()
    assert 'value="王芳 Wang Fang · C-OWN"' in html
    response = sales_client.post(
        url,
        {"customer": "王芳 Wang Fang · C-OWN", "customer_id": str(own_customer.pk), **ORDER, "notes": "x"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.customer == own_customer and order.notes == "x"


def test_empty_customer_names_the_field(sales_client):
    html = sales_client.post(reverse("orders:salesorder-create"), {"customer": "", **ORDER}).content.decode()
    assert "Enter a customer&#x27;s name, phone, email or external id." in html


def test_customer_page_offers_new_ticket_opportunity_and_project(sales_client, own_customer):
    html = sales_client.get(own_customer.get_absolute_url()).content.decode()
    for url_name in FORMS:
        assert f"{reverse(url_name)}?customer={own_customer.pk}" in html
    for label in ("New order", "New ticket", "New opportunity", "New project"):
        assert label in html


def test_order_lists_link_the_customer(sales_client, own_customer):
    SalesOrderFactory(customer=own_customer)
    ServiceOrderFactory(customer=own_customer)
    ProjectFactory(customer=own_customer)
    OpportunityFactory(customer=own_customer)
    link = f'<a href="{own_customer.get_absolute_url()}">王芳 Wang Fang</a>'
    for url_name in ("salesorder-list", "serviceorder-list", "project-list", "opportunity-list"):
        assert link in sales_client.get(reverse(f"orders:{url_name}")).content.decode(), url_name


def test_service_agent_picks_any_customer_for_a_ticket_from_the_customer_page(client, make_user, namesakes):
    """Service reads every customer (the role matrix), so the picker offers every one of them to it."""
    agent = make_user("agent", "Service")
    client.force_login(agent)
    _first, _second, theirs = namesakes
    page = client.get(theirs.get_absolute_url()).content.decode()
    new_ticket = f"{reverse('orders:serviceorder-create')}?customer={theirs.pk}"
    assert new_ticket in page
    form = client.get(new_ticket).content.decode()
    assert 'value="陈静 Chen Jing-Private · CJ-THEIRS"' in _picker(form)
    data = {**FORMS["orders:serviceorder-create"][1], "customer": "Chen Jing"}
    assert len(_radios(client.post(reverse("orders:serviceorder-create"), data).content.decode())) == 3
    response = client.post(reverse("orders:serviceorder-create"), {**data, "customer_pick": str(theirs.pk)})
    assert response.status_code == 302 and ServiceOrder.objects.get().customer == theirs
