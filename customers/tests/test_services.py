import pytest
from django.core.exceptions import ValidationError

from crm_site.fields import decrypt_text
from customers.models import Address, ContactMethod, Customer, CustomerMerge, CustomerShare, Relationship
from customers.services import (
    contact_method_save,
    customer_create,
    customer_merge,
    customer_set_consent,
    customer_set_tags,
    customer_share_with,
    customers_bulk_create_minimal,
)
from customers.tests.factories import AddressFactory, ContactMethodFactory, CustomerFactory


@pytest.mark.django_db
def test_customer_create_with_contacts_and_addresses(sales_user):
    customer = customer_create(
        name="王芳",
        owner=sales_user,
        gender="female",
        contact_methods=[{"kind": "mobile", "value": "0086 139 1234 5678", "is_primary": True}],
        addresses=[{"province": "北京市", "city": "北京市", "street": "长安街 1 号"}],
        tags=["VIP", "VIP", "华北"],
    )
    contact = customer.contact_methods.get()
    assert contact.value_normalized == "13912345678"
    assert customer.addresses.get().is_default  # the only address is the default
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "华北"]


@pytest.mark.django_db
def test_customer_create_is_all_or_nothing_on_bad_email(sales_user):
    with pytest.raises(ValidationError) as excinfo:
        customer_create(
            name="Bad", owner=sales_user, contact_methods=[{"kind": "email", "value": "not-an-email"}]
        )
    assert "value" in excinfo.value.message_dict
    assert not Customer.objects.filter(name="Bad").exists()


@pytest.mark.django_db
def test_customer_create_rejects_future_birth_date(sales_user):
    import datetime

    with pytest.raises(ValidationError) as excinfo:
        customer_create(name="Future", owner=sales_user, birth_date=datetime.date(2999, 1, 1))
    assert "birth_date" in excinfo.value.message_dict


@pytest.mark.django_db
def test_only_one_primary_contact_per_kind(own_customer):
    contact_method_save(customer=own_customer, kind="mobile", value="13900000001", is_primary=True)
    assert own_customer.contact_methods.filter(kind="mobile", is_primary=True).count() == 1


@pytest.mark.django_db
def test_customer_set_consent_records_when_and_how(own_customer):
    customer_set_consent(customer=own_customer, consent=True, channel="paper", note="signed at shop")
    own_customer.refresh_from_db()
    assert own_customer.marketing_consent and own_customer.consent_channel == "paper"
    assert own_customer.consent_changed_at is not None
    with pytest.raises(ValidationError):
        customer_set_consent(customer=own_customer, consent=False, channel="")


@pytest.mark.django_db
def test_customers_bulk_create_minimal_creates_only_unknown(sales_user):
    existing = CustomerFactory(owner=sales_user, external_id="E1")
    result = customers_bulk_create_minimal(
        rows=[
            {"external_id": "E1", "name": "x"},
            {"external_id": "E2", "name": "New"},
            {"external_id": "E2"},
        ],
        owner=sales_user,
    )
    assert result["E1"] == existing.pk
    assert Customer.objects.get(pk=result["E2"]).name == "New"
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_customer_merge_moves_everything_and_keeps_audit(sales_user, other_sales_user):
    survivor = CustomerFactory(owner=sales_user, name="Zhang Wei", notes="first")
    loser = CustomerFactory(
        owner=sales_user, name="Zhang  Wei", external_id="X9", notes="second", attributes={"level": "gold"}
    )
    ContactMethodFactory(customer=loser, kind="email", value="zw@example.com")
    AddressFactory(customer=survivor, is_default=True)
    AddressFactory(customer=loser, is_default=True)
    friend = CustomerFactory(owner=sales_user)
    Relationship.objects.create(customer=friend, related_customer=loser, kind="referral")
    customer_set_tags(customer=survivor, names=["VIP"])
    customer_set_tags(customer=loser, names=["VIP", "east"])
    customer_share_with(customer=loser, by=sales_user, user=other_sales_user)

    merge = customer_merge(survivor=survivor, loser=loser, choices={"gender": "loser"}, by=sales_user)

    survivor.refresh_from_db()
    assert not Customer.objects.filter(pk=loser.pk).exists()
    assert "zw@example.com" in {c.value for c in ContactMethod.objects.filter(customer=survivor)}
    assert Address.objects.filter(customer=survivor).count() == 2
    assert Address.objects.filter(customer=survivor, is_default=True).count() == 1
    assert Relationship.objects.get(customer=friend).related_customer_id == survivor.pk
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["VIP", "east"]
    assert CustomerShare.objects.filter(customer=survivor, user=other_sales_user).exists()
    assert survivor.external_id == "X9" and survivor.attributes == {"level": "gold"}
    assert "second" in survivor.notes and "first" in survivor.notes
    audit = CustomerMerge.objects.get()
    assert audit == merge and audit.snapshot["name"] == "Zhang  Wei"
    # Encrypted in the kept snapshot as on the customer (issue 13).
    token = audit.snapshot["contact_methods"][0]["value"]
    assert "zw@example.com" not in str(audit.snapshot) and decrypt_text(token) == "zw@example.com"


@pytest.mark.django_db
def test_customer_merge_refuses_same_customer(own_customer):
    with pytest.raises(ValidationError):
        customer_merge(survivor=own_customer, loser=own_customer)
