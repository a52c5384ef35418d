"""customer_ids_by_contact: another system's phone number or address to the customer a user may see."""

import pytest

from customers.models import ContactMethod
from customers.selectors import customer_ids_by_contact
from customers.tests.factories import ContactMethodFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_number_in_any_spelling_names_the_visible_customer(sales_user):
    customer = CustomerFactory(owner=sales_user)
    ContactMethodFactory(customer=customer, kind=ContactMethod.Kind.MOBILE, value="138 0013 8000")
    ContactMethodFactory(customer=customer, kind=ContactMethod.Kind.PHONE, value="021-5555 0101")
    spellings = ["+86 138-0013-8000", "0086 13800138000", "(021) 5555-0101", "02155550101", "no digits"]
    found = customer_ids_by_contact(user=sales_user, kind="phone", values=spellings)
    assert found == dict.fromkeys(spellings[:4], customer.pk)


def test_a_value_of_a_customer_the_user_may_not_see_is_left_out_like_an_unknown_one(
    sales_user, other_sales_user, manager_user
):
    hidden = CustomerFactory(owner=other_sales_user)
    ContactMethodFactory(customer=hidden, kind=ContactMethod.Kind.EMAIL, value="Li@Example.com")
    assert customer_ids_by_contact(user=sales_user, kind="email", values=["li@example.com"]) == {}
    assert customer_ids_by_contact(user=manager_user, kind="email", values=["LI@example.COM"]) == {
        "LI@example.COM": hidden.pk
    }


def test_a_shared_number_names_the_visible_customer_whose_contact_is_primary(sales_user, other_sales_user):
    other = CustomerFactory(owner=other_sales_user)
    ContactMethodFactory(customer=other, kind=ContactMethod.Kind.MOBILE, value="13800138000", is_primary=True)
    first = CustomerFactory(owner=sales_user)
    ContactMethodFactory(customer=first, kind=ContactMethod.Kind.MOBILE, value="13800138000")
    primary = CustomerFactory(owner=sales_user)
    ContactMethodFactory(
        customer=primary, kind=ContactMethod.Kind.MOBILE, value="138 0013 8000", is_primary=True
    )
    found = customer_ids_by_contact(user=sales_user, kind="phone", values=["13800138000"])
    assert found == {"13800138000": primary.pk}
