"""crm_site.services.model_update: the one way update services set, validate and save fields."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm_site.services import UNCHANGED, given, model_create, model_update
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from orders.models import Opportunity, Product
from orders.tests.factories import OpportunityFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_given_drops_the_arguments_left_unchanged():
    assert given(name="x", notes=UNCHANGED, expected_close_date=None) == {
        "name": "x",
        "expected_close_date": None,
    }


def test_model_update_saves_only_its_fields_so_another_columns_change_survives():
    product = ProductFactory(name="Old", active=True)
    last_week = timezone.now() - timedelta(days=7)
    # Someone else's change meanwhile.
    Product.objects.filter(pk=product.pk).update(active=False, updated_at=last_week)
    product, has_updated = model_update(instance=product, fields=["name"], data={"name": "New"})
    assert has_updated
    stored = Product.objects.get(pk=product.pk)
    assert (stored.name, stored.active) == ("New", False)
    assert stored.updated_at > last_week  # the auto_now stamp is saved along


def test_model_update_with_nothing_changed_writes_nothing(django_assert_num_queries):
    customer = CustomerFactory()
    opportunity = OpportunityFactory(customer=customer, name="Deal")
    opportunity = Opportunity.objects.get(pk=opportunity.pk)
    with django_assert_num_queries(0):  # the customer is compared by its key, not loaded
        _same, has_updated = model_update(
            instance=opportunity, fields=["name", "customer"], data={"name": "Deal", "customer": customer}
        )
    assert not has_updated


def test_model_update_validates_the_whole_row_before_writing():
    customer = CustomerFactory(name="Kept")
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        model_update(instance=customer, fields=["birth_date"], data={"birth_date": tomorrow})
    assert "birth_date" in caught.value.message_dict
    assert Customer.objects.get(pk=customer.pk).birth_date is None


def test_model_update_refuses_a_field_it_was_not_given():
    product = ProductFactory(name="Old")
    with pytest.raises(TypeError, match="active"):
        model_update(instance=product, fields=["name"], data={"name": "New", "active": False})
    assert Product.objects.get(pk=product.pk).name == "Old"


def test_model_create_validates_and_saves_with_the_models_defaults_for_the_rest(sales_user):
    customer = model_create(
        model=Customer, fields=["name", "owner"], data={"name": "新客户", "owner": sales_user}
    )
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.name, stored.owner, stored.lifecycle_stage) == (
        "新客户",
        sales_user,
        Customer().lifecycle_stage,
    )


def test_model_create_writes_nothing_when_the_row_is_invalid(sales_user):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        model_create(
            model=Customer,
            fields=["name", "owner", "birth_date"],
            data={"name": "Future", "owner": sales_user, "birth_date": tomorrow},
        )
    assert "birth_date" in caught.value.message_dict
    assert not Customer.objects.filter(name="Future").exists()


def test_model_create_refuses_a_field_it_was_not_given(sales_user):
    with pytest.raises(TypeError, match="notes"):
        model_create(
            model=Customer, fields=["name", "owner"], data={"name": "X", "owner": sales_user, "notes": ""}
        )
    assert not Customer.objects.filter(name="X").exists()
