"""The status history of orders and tickets: every move recorded with who and when, shown on the page."""

import pytest
from django.urls import reverse

from orders.models import StatusChange
from orders.tests.factories import OrderLineFactory, SalesOrderFactory, ServiceOrderFactory

pytestmark = pytest.mark.django_db


def test_moving_an_order_from_its_page_records_who_and_when(client, sales_user, own_customer):
    order = SalesOrderFactory(customer=own_customer, owner=sales_user, status="draft")
    OrderLineFactory(order=order)
    client.force_login(sales_user)
    for status in ("confirmed", "paid"):
        response = client.post(reverse("orders:salesorder-transition", args=[order.pk]), {"status": status})
        assert response.status_code == 302
    moves = list(StatusChange.objects.filter(sales_order=order).order_by("changed_at"))
    assert [(m.from_status, m.to_status, m.changed_by) for m in moves] == [
        ("draft", "confirmed", sales_user),
        ("confirmed", "paid", sales_user),
    ]
    page = client.get(reverse("orders:salesorder-detail", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "Status history" in text
    assert (
        f"{sales_user.get_full_name() or sales_user.get_username()} moved it from Confirmed to Paid" in text
    )


def test_a_refused_move_records_nothing(client, sales_user, own_customer):
    order = SalesOrderFactory(customer=own_customer, owner=sales_user, status="draft")
    client.force_login(sales_user)
    client.post(reverse("orders:salesorder-transition", args=[order.pk]), {"status": "shipped"})
    assert not StatusChange.objects.filter(sales_order=order).exists()


def test_ticket_moves_and_assignment_are_recorded(client, sales_user, own_customer):
    ticket = ServiceOrderFactory(customer=own_customer, owner=sales_user, assignee=None, status="new")
    client.force_login(sales_user)
    edit = reverse("orders:serviceorder-edit", args=[ticket.pk])
    form = client.get(edit).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {"customer": str(own_customer.pk), "assignee": str(sales_user.pk)}
    response = client.post(edit, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    client.post(reverse("orders:serviceorder-transition", args=[ticket.pk]), {"status": "in_progress"})
    moves = [
        (m.from_status, m.to_status, m.changed_by) for m in StatusChange.objects.filter(service_order=ticket)
    ]
    assert moves == [("new", "assigned", sales_user), ("assigned", "in_progress", sales_user)]
    page = client.get(reverse("orders:serviceorder-detail", args=[ticket.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "moved it from Assigned to In progress" in page.content.decode()


def test_history_is_visible_only_with_its_order(sales_user, other_sales_user, own_customer):
    order = SalesOrderFactory(customer=own_customer, owner=sales_user, status="draft")
    OrderLineFactory(order=order)
    from orders.services.sales import sales_order_transition

    sales_order_transition(order=order, status="confirmed", by=sales_user)
    assert StatusChange.objects.visible_to(sales_user).count() == 1
    assert StatusChange.objects.visible_to(other_sales_user).count() == 0


def test_the_admin_shows_the_history_read_only_and_status_is_not_a_form_field(
    client, manager_user, own_customer
):
    manager_user.is_superuser = True
    manager_user.save()
    ticket = ServiceOrderFactory(customer=own_customer)
    client.force_login(manager_user)
    page = client.get(reverse("admin:orders_serviceorder_change", args=[ticket.pk]))
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()


def test_working_every_ticket_opens_ticket_history_not_sales_order_history(
    make_user, sales_user, own_customer
):
    """Service may change every ticket (orders.change_all_serviceorder): that opens every ticket's moves,
    not the moves of sales orders of customers Service may not change (nullable keys, one open in full)."""
    from orders.services.sales import sales_order_transition
    from orders.services.tickets import service_order_transition

    order = SalesOrderFactory(customer=own_customer, owner=sales_user, status="draft")
    OrderLineFactory(order=order)
    sales_order_transition(order=order, status="confirmed", by=sales_user)
    ticket = ServiceOrderFactory(customer=own_customer, owner=sales_user, status="new")
    service_order_transition(ticket=ticket, status="in_progress", by=sales_user)
    service = make_user("sue", "Service")
    changeable = StatusChange.objects.visible_to(service, action="change")
    assert set(changeable.values_list("service_order", flat=True)) == {ticket.pk}
    assert not changeable.filter(sales_order=order).exists()
    assert StatusChange.objects.visible_to(sales_user, action="change").count() == 2
