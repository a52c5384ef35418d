"""visible_customer_filter: rows of the customers a user sees, without a subquery per row on MongoDB."""

import pytest

from customers.models import ContactMethod, CustomerShare
from customers.selectors import customer_relationships
from customers.selectors.visibility import visible_customer_filter
from customers.tests.factories import ContactMethodFactory, CustomerFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def test_visible_customer_filter_keeps_the_rows_of_the_customers_a_sales_user_sees(
    sales_user, other_sales_user, manager_user
):
    own = ContactMethodFactory(customer=CustomerFactory(owner=sales_user))
    shared_customer = CustomerFactory(owner=other_sales_user)
    CustomerShare.objects.create(customer=shared_customer, user=sales_user)
    shared = ContactMethodFactory(customer=shared_customer)
    hidden = ContactMethodFactory(customer=CustomerFactory(owner=other_sales_user))
    seen = set(
        ContactMethod.objects.filter(visible_customer_filter(user=sales_user)).values_list("pk", flat=True)
    )
    assert seen == {own.pk, shared.pk}
    # A manager sees every customer: no condition at all (no id list, no subquery).
    assert not visible_customer_filter(user=manager_user)
    assert ContactMethod.objects.filter(visible_customer_filter(user=manager_user)).count() == 3
    assert hidden.pk not in seen


def test_a_manager_sees_every_link_of_a_customer_and_a_sales_user_only_those_to_customers_they_see(
    sales_user, other_sales_user, manager_user
):
    customer = CustomerFactory(owner=sales_user)
    to_own = RelationshipFactory(customer=customer, related_customer=CustomerFactory(owner=sales_user))
    to_hidden = RelationshipFactory(
        customer=customer, related_customer=CustomerFactory(owner=other_sales_user)
    )
    own, _inverse = customer_relationships(user=manager_user, customer=customer)
    assert {link.pk for link in own} == {to_own.pk, to_hidden.pk}
    own, _inverse = customer_relationships(user=sales_user, customer=customer)
    assert {link.pk for link in own} == {to_own.pk}
