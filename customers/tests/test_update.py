"""customer_update writes only what it is given; one default address and one primary contact per kind."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers.models import Address, ContactMethod, Customer
from customers.services import address_save, contact_method_save, customer_merge, customer_update
from customers.tests.factories import AddressFactory, ContactMethodFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_update_keeps_a_field_changed_meanwhile_by_someone_else(sales_user):
    customer = CustomerFactory(owner=sales_user, name="Old", notes="")
    Customer.objects.filter(pk=customer.pk).update(notes="called back")  # another user's edit
    customer_update(customer=customer, name="New")
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.name, stored.notes) == ("New", "called back")


def test_customer_update_refuses_an_unknown_field(sales_user):
    customer = CustomerFactory(owner=sales_user)
    with pytest.raises(TypeError):
        customer_update(customer=customer, favourite_colour="red")  # type: ignore[call-arg]


def test_editing_a_customer_through_the_form_saves_the_change(client, sales_user):
    customer = CustomerFactory(owner=sales_user, name="Old")
    client.force_login(sales_user)
    form = {
        "kind": "person",
        "name": "New name",
        "gender": "unknown",
        "lifecycle_stage": "lead",
        "source": "other",
        **{
            f"{prefix}-{key}": value
            for prefix in ("contacts", "addresses")
            for key, value in {
                "TOTAL_FORMS": "0",
                "INITIAL_FORMS": "0",
                "MIN_NUM_FORMS": "0",
                "MAX_NUM_FORMS": "1000",
            }.items()
        },
    }
    response = client.post(reverse("customers:customer-update", args=[customer.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.get(pk=customer.pk).name == "New name"


def test_a_new_default_address_takes_the_flag_from_the_old_one(sales_user):
    customer = CustomerFactory(owner=sales_user)
    old = AddressFactory(customer=customer, is_default=True)
    new = address_save(customer=customer, city="杭州市", is_default=True)
    assert list(Address.objects.filter(customer=customer, is_default=True)) == [new]
    assert not Address.objects.get(pk=old.pk).is_default


def test_a_new_primary_contact_clears_only_its_own_kind(sales_user):
    customer = CustomerFactory(owner=sales_user)
    email = ContactMethodFactory(customer=customer, kind="email", value="a@example.com", is_primary=True)
    old = ContactMethodFactory(customer=customer, kind="mobile", value="13900000001", is_primary=True)
    new = contact_method_save(customer=customer, kind="mobile", value="13900000002", is_primary=True)
    primaries = set(
        ContactMethod.objects.filter(customer=customer, is_primary=True).values_list("pk", flat=True)
    )
    assert primaries == {email.pk, new.pk} and old.pk not in primaries


def test_a_merge_keeps_the_survivors_oldest_default_address_and_primary_per_kind(sales_user):
    survivor = CustomerFactory(owner=sales_user)
    loser = CustomerFactory(owner=sales_user)
    kept_address = AddressFactory(customer=survivor, is_default=True)
    kept_mobile = ContactMethodFactory(customer=survivor, kind="mobile", value="13900000001", is_primary=True)
    AddressFactory(customer=loser, is_default=True)
    ContactMethodFactory(customer=loser, kind="mobile", value="13900000002", is_primary=True)
    loser_email = ContactMethodFactory(customer=loser, kind="email", value="b@example.com", is_primary=True)
    customer_merge(survivor=survivor, loser=loser, by=sales_user)
    assert list(Address.objects.filter(customer=survivor, is_default=True)) == [kept_address]
    primaries = set(
        ContactMethod.objects.filter(customer=survivor, is_primary=True).values_list("pk", flat=True)
    )
    assert primaries == {kept_mobile.pk, loser_email.pk}


def test_changing_a_contacts_value_saves_its_match_key_with_it(sales_user):
    customer = CustomerFactory(owner=sales_user)
    contact = ContactMethodFactory(customer=customer, kind="mobile", value="13900000001")
    contact_method_save(customer=customer, id=contact.pk, value="139-0000-0009")
    stored = ContactMethod.objects.get(pk=contact.pk)
    assert (stored.value, stored.value_normalized) == ("139-0000-0009", "13900000009")


def test_a_contact_change_writes_only_the_given_fields(sales_user):
    customer = CustomerFactory(owner=sales_user)
    contact = ContactMethodFactory(customer=customer, kind="email", value="a@example.com", label="")
    ContactMethod.objects.filter(pk=contact.pk).update(is_verified=True)  # someone else's change meanwhile
    contact_method_save(customer=customer, id=contact.pk, label="work")
    stored = ContactMethod.objects.get(pk=contact.pk)
    assert (stored.label, stored.is_verified) == ("work", True)


def test_an_address_change_keeps_it_the_default_when_it_is_the_only_one(sales_user):
    customer = CustomerFactory(owner=sales_user)
    only = address_save(customer=customer, city="上海市")
    assert only.is_default
    address_save(customer=customer, id=only.pk, city="杭州市", is_default=False)
    stored = Address.objects.get(pk=only.pk)
    assert (stored.city, stored.is_default) == ("杭州市", True)


def test_another_customers_address_cannot_be_changed_through_this_one(sales_user):
    customer, other = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    theirs = AddressFactory(customer=other, city="北京市")
    with pytest.raises(ValidationError):
        address_save(customer=customer, id=theirs.pk, city="杭州市")
    assert Address.objects.get(pk=theirs.pk).city == "北京市"
