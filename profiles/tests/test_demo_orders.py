"""The demo events follow each customer's purchases, read through the orders selectors the pipeline uses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from orders.tests.factories import OrderLineFactory, ProductCategoryFactory, ProductFactory, SalesOrderFactory
from profiles.demo import _orders_of

pytestmark = pytest.mark.django_db


def test_demo_reads_each_customers_purchased_orders_newest_first_with_their_category(sales_user):
    buyer, other = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    books = ProductFactory(
        category=ProductCategoryFactory(name="Novels", parent=ProductCategoryFactory(name="图书 Books"))
    )
    now = timezone.now()
    old = SalesOrderFactory(customer=buyer, status="paid", channel="app", ordered_at=now - timedelta(days=30))
    new = SalesOrderFactory(
        customer=buyer, status="completed", channel="web", ordered_at=now - timedelta(days=2)
    )
    for order in (old, new, old):
        OrderLineFactory(order=order, product=books)
    OrderLineFactory(order=SalesOrderFactory(customer=buyer, status="draft"), product=books)
    SalesOrderFactory(customer=buyer, status="paid")  # no lines: nothing to show
    OrderLineFactory(order=SalesOrderFactory(customer=other, status="paid"), product=books)

    found = _orders_of([buyer.pk])
    old.refresh_from_db()  # the stored precision (milliseconds on MongoDB)
    new.refresh_from_db()

    assert list(found) == [str(buyer.pk)]
    assert found[str(buyer.pk)] == [
        (new.ordered_at, "web", "图书 Books"),
        (old.ordered_at, "app", "图书 Books"),
    ]
