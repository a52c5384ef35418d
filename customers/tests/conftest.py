"""Fixtures of the customers app."""

import pytest

from customers.tests.factories import ContactMethodFactory, CustomerFactory


@pytest.fixture
def own_customer(sales_user):
    customer = CustomerFactory(name="张伟 Zhang Wei", owner=sales_user)
    ContactMethodFactory(customer=customer, kind="mobile", value="+86 138-0013-8000", is_primary=True)
    ContactMethodFactory(customer=customer, kind="email", value="Zhang.Wei@Example.com")
    ContactMethodFactory(customer=customer, kind="wechat", value="ZhangWei_88")
    return customer


@pytest.fixture
def others_customer(other_sales_user):
    return CustomerFactory(name="Li Na 李娜", owner=other_sales_user)
