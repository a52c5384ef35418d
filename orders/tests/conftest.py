"""Fixtures of the orders app."""

from decimal import Decimal

import pytest

from orders.tests.factories import CustomerFactory, ProductCategoryFactory, ProductFactory


@pytest.fixture
def own_customer(sales_user):
    return CustomerFactory(name="王芳 Wang Fang", owner=sales_user, external_id="C-OWN")


@pytest.fixture
def others_customer(other_sales_user):
    return CustomerFactory(name="Li Na 李娜", owner=other_sales_user, external_id="C-OTHER")


@pytest.fixture
def phones():
    return ProductCategoryFactory(name="Phones 手机", code="phones")


@pytest.fixture
def phone(phones):
    return ProductFactory(sku="PH-1", name="Phone X 手机", category=phones, unit_price=Decimal("1999.00"))


@pytest.fixture
def case(phones):
    return ProductFactory(sku="AC-1", name="Case 手机壳", category=phones, unit_price=Decimal("19.90"))
