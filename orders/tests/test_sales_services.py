"""Sales order totals (exact Decimal) and the status workflow."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm_site.signals import customer_activity
from orders.models import SalesOrder
from orders.services.sales import (
    line_total,
    money,
    order_line_add,
    order_line_remove,
    sales_order_create,
    sales_order_transition,
    sales_order_update,
)

pytestmark = pytest.mark.django_db


def test_line_total_is_exact_decimal_cents():
    assert line_total(quantity=3, unit_price=Decimal("0.10"), discount=Decimal("0")) == Decimal("0.30")
    assert line_total(quantity=7, unit_price=Decimal("19.90"), discount=Decimal("3.30")) == Decimal("136.00")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        money(0.1)


def test_order_totals_sum_lines_minus_discounts(own_customer, sales_user, phone, case):
    order = sales_order_create(
        customer=own_customer,
        owner=sales_user,
        order_discount=Decimal("10.00"),
        lines=[
            {"product": phone, "quantity": 1},
            {"product": case, "quantity": 3, "discount": Decimal("0.70")},
        ],
    )
    order.refresh_from_db()
    assert order.subtotal == Decimal("2058.00")  # 1999.00 + 3 × 19.90 − 0.70
    assert order.total == Decimal("2048.00")
    assert order.number.startswith("SO-")


def test_order_line_add_and_remove_recompute_totals(own_customer, sales_user, phone, case):
    order = sales_order_create(customer=own_customer, owner=sales_user, lines=[{"product": phone}])
    line = order_line_add(order=order, product=case, quantity=2)
    assert order.total == Decimal("2038.80")
    order_line_remove(line=line)
    order.refresh_from_db()
    assert order.total == Decimal("1999.00")


def test_order_discount_cannot_exceed_subtotal(own_customer, sales_user, case):
    with pytest.raises(ValidationError) as error:
        sales_order_create(
            customer=own_customer, owner=sales_user, order_discount=Decimal("100"), lines=[{"product": case}]
        )
    assert "order_discount" in error.value.message_dict
    assert not SalesOrder.objects.exists()  # nothing half-written


def test_line_discount_cannot_exceed_line_amount(own_customer, sales_user, case):
    with pytest.raises(ValidationError) as error:
        sales_order_create(
            customer=own_customer, owner=sales_user, lines=[{"product": case, "discount": Decimal("20.00")}]
        )
    assert "discount" in error.value.message_dict
    assert not SalesOrder.objects.exists()


def test_inactive_product_is_refused(own_customer, sales_user, case):
    case.active = False
    case.save()
    with pytest.raises(ValidationError) as error:
        sales_order_create(customer=own_customer, owner=sales_user, lines=[{"product": case}])
    assert "product" in error.value.message_dict


def test_order_walks_the_happy_path(own_customer, sales_user, phone):
    order = sales_order_create(customer=own_customer, owner=sales_user, lines=[{"product": phone}])
    for status in ("confirmed", "paid", "shipped", "completed", "refunded"):
        sales_order_transition(order=order, status=status)
    order.refresh_from_db()
    assert order.status == SalesOrder.Status.REFUNDED


def test_illegal_transition_is_refused_with_a_clear_message(own_customer, sales_user, phone):
    order = sales_order_create(customer=own_customer, owner=sales_user, lines=[{"product": phone}])
    with pytest.raises(ValidationError) as error:
        sales_order_transition(order=order, status="shipped")
    message = error.value.message_dict["status"][0]
    assert "Draft" in message and "Shipped" in message and "Confirmed" in message
    order.refresh_from_db()
    assert order.status == SalesOrder.Status.DRAFT


def test_cancelled_order_is_final(own_customer, sales_user, phone):
    order = sales_order_create(customer=own_customer, owner=sales_user, lines=[{"product": phone}])
    sales_order_transition(order=order, status="cancelled")
    with pytest.raises(ValidationError):
        sales_order_transition(order=order, status="confirmed")


def test_empty_order_cannot_be_confirmed(own_customer, sales_user):
    order = sales_order_create(customer=own_customer, owner=sales_user)
    with pytest.raises(ValidationError):
        sales_order_transition(order=order, status="confirmed")


def test_paid_order_lines_are_frozen(own_customer, sales_user, phone, case):
    order = sales_order_create(customer=own_customer, owner=sales_user, lines=[{"product": phone}])
    sales_order_transition(order=order, status="confirmed")
    sales_order_transition(order=order, status="paid")
    with pytest.raises(ValidationError):
        order_line_add(order=order, product=case)
    with pytest.raises(ValidationError):
        sales_order_update(order=order, order_discount=Decimal("5"))


@pytest.mark.nomongo(
    reason="no test transaction wraps a test on MongoDB: the service's own commit is real and runs its "
    "on-commit callbacks at once, so django_capture_on_commit_callbacks cannot hold them back"
)
def test_save_and_status_change_announce_customer_activity_after_commit(
    own_customer, sales_user, phone, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, customer_ids, **kwargs):
        received.append(customer_ids)

    customer_activity.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            order = sales_order_create(customer=own_customer, owner=sales_user, lines=[{"product": phone}])
        assert received == []  # not before commit
        for callback in callbacks:
            callback()
        with django_capture_on_commit_callbacks(execute=True):
            sales_order_transition(order=order, status="confirmed")
    finally:
        customer_activity.disconnect(receiver)
    assert received == [[str(own_customer.pk)], [str(own_customer.pk)]]


def test_a_failing_activity_receiver_is_logged_and_the_saved_order_stands(
    own_customer, sales_user, phone, django_capture_on_commit_callbacks, caplog
):
    """A higher app's receiver that raises after commit must not turn a saved order into an error."""
    later = []

    def broken(sender, customer_ids, **kwargs):
        raise RuntimeError("refresh exploded")

    def working(sender, customer_ids, **kwargs):
        later.append(customer_ids)

    customer_activity.connect(broken)
    customer_activity.connect(working)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = sales_order_create(customer=own_customer, owner=sales_user, lines=[{"product": phone}])
    finally:
        customer_activity.disconnect(broken)
        customer_activity.disconnect(working)
    assert SalesOrder.objects.filter(pk=order.pk).exists()
    assert later == [[str(own_customer.pk)]]  # the receivers after the broken one still ran
    assert "refresh exploded" in caplog.text
