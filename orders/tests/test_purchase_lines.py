"""The purchase history feed the profile pipeline reads."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.selectors import purchased_lines, purchased_orders
from orders.tests.factories import OrderLineFactory, ProductCategoryFactory, ProductFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db


def test_purchased_lines_only_purchased_orders_with_top_level_category(own_customer):
    top = ProductCategoryFactory(name="Baby 母婴")
    child = ProductCategoryFactory(name="Diapers", parent=top)
    product = ProductFactory(category=child, unit_price=Decimal("59.90"))
    paid = SalesOrderFactory(customer=own_customer, status="paid", channel="app")
    line = OrderLineFactory(order=paid, product=product, quantity=2, discount=Decimal("0.80"))
    for status in ("draft", "confirmed", "cancelled", "refunded"):
        OrderLineFactory(order=SalesOrderFactory(customer=own_customer, status=status), product=product)
    rows = [row for chunk in purchased_lines() for row in chunk]
    assert len(rows) == 1
    line_id, order_id, category, _sku, quantity, amount = rows[0]
    assert (line_id, order_id, category, quantity) == (str(line.pk), str(paid.pk), "Baby 母婴", 2)
    assert amount == Decimal("119.00") and isinstance(amount, Decimal)
    [(pk, customer_id, ordered_at, channel, currency)] = [
        row for chunk in purchased_orders() for row in chunk
    ]
    assert (pk, customer_id, channel, currency) == (str(paid.pk), str(own_customer.pk), "app", "CNY")
    assert timezone.is_aware(ordered_at)


def test_purchased_lines_come_in_chunks_and_filter(own_customer, others_customer):
    old = SalesOrderFactory(customer=own_customer, ordered_at=timezone.now() - timedelta(days=400))
    for _i in range(5):
        OrderLineFactory(order=old, product=None, category=None, unit_price=Decimal("1.00"))
    OrderLineFactory(order=SalesOrderFactory(customer=others_customer))
    chunks = list(purchased_lines(chunk_size=2))
    assert [len(chunk) for chunk in chunks] == [2, 2, 2]
    ids = [row[0] for chunk in chunks for row in chunk]
    assert len(set(ids)) == 6
    assert sum(len(c) for c in purchased_lines(as_of=timezone.now() - timedelta(days=100))) == 5
    assert sum(len(c) for c in purchased_lines(customer_ids=[others_customer.pk])) == 1
    assert all(row[2] == "" for c in purchased_lines(customer_ids=[own_customer.pk]) for row in c)


def test_purchased_orders_and_lines_stream_tuples_of_purchases_only(own_customer, others_customer):
    top = ProductCategoryFactory(name="Sports 运动")
    product = ProductFactory(
        category=ProductCategoryFactory(name="Shoes", parent=top), unit_price=Decimal("80.00")
    )
    paid = SalesOrderFactory(customer=own_customer, status="shipped", channel="app")
    line = OrderLineFactory(order=paid, product=product, quantity=3)
    OrderLineFactory(order=SalesOrderFactory(customer=others_customer, status="draft"), product=product)
    old = SalesOrderFactory(customer=others_customer, ordered_at=timezone.now() - timedelta(days=50))
    OrderLineFactory(order=old, product=None, category=None)
    orders = [row for chunk in purchased_orders(chunk_size=1) for row in chunk]
    assert {row[0] for row in orders} == {str(paid.pk), str(old.pk)}
    assert (str(paid.pk), str(own_customer.pk), "app") in {
        (pk, customer, channel) for pk, customer, _at, channel, _currency in orders
    }
    assert all(timezone.is_aware(row[2]) for row in orders)
    lines = [row for chunk in purchased_lines(chunk_size=1) for row in chunk]
    assert len(lines) == 2
    assert (str(line.pk), str(paid.pk), "Sports 运动", line.sku, 3, Decimal("240.00")) in lines
    recent = timezone.now() - timedelta(days=10)
    assert [row[0] for chunk in purchased_orders(as_of=recent) for row in chunk] == [str(old.pk)]
    assert [row[1] for chunk in purchased_lines(customer_ids=[own_customer.pk]) for row in chunk] == [
        str(paid.pk)
    ]


def test_purchased_lines_of_known_orders_are_read_without_a_join(own_customer):
    paid = SalesOrderFactory(customer=own_customer, status="paid")
    line = OrderLineFactory(order=paid, product=None, category=None)
    OrderLineFactory(
        order=SalesOrderFactory(customer=own_customer, status="draft"), product=None, category=None
    )
    rows = [row for chunk in purchased_lines(orders={str(paid.pk)}, chunk_size=1) for row in chunk]
    assert [(row[0], row[1]) for row in rows] == [(str(line.pk), str(paid.pk))]
