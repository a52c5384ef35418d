"""The customer page's reads live in selectors (customers.selectors.detail), not in the view."""

import pytest

from customers.models import CustomFieldDefinition
from customers.selectors import customer_custom_values, customer_detail_data
from customers.tests.factories import ContactMethodFactory, CustomerFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def test_custom_values_list_only_active_definitions_the_customer_has_a_value_for(sales_user):
    shown = CustomFieldDefinition.objects.create(key="vip_level", label="VIP level")
    CustomFieldDefinition.objects.create(key="unused", label="Unused")
    CustomFieldDefinition.objects.create(key="retired", label="Retired", is_active=False)
    customer = CustomerFactory(owner=sales_user, attributes={"vip_level": "gold", "retired": "x"})
    assert customer_custom_values(customer=customer) == [(shown, "gold")]
    assert customer_custom_values(customer=CustomerFactory(owner=sales_user)) == []


def test_customer_detail_data_hides_relationships_to_customers_the_user_cannot_see(
    sales_user, other_sales_user
):
    customer = CustomerFactory(owner=sales_user)
    ContactMethodFactory(customer=customer, kind="email", value="a@example.com")
    RelationshipFactory(customer=customer, related_customer=CustomerFactory(owner=other_sales_user))
    mine = RelationshipFactory(customer=customer, related_customer=CustomerFactory(owner=sales_user))
    data = customer_detail_data(user=sales_user, customer=customer)
    assert [method.value for method in data["contact_methods"]] == ["a@example.com"]
    assert [link.pk for link in data["relationships"]] == [mine.pk]
    assert data["merges"] == [] and data["tags"] == [] and data["custom_values"] == []


def test_share_target_get_finds_users_and_teams_and_404s_anything_else(sales_user):
    from django.contrib.auth.models import Group
    from django.http import Http404

    from customers.selectors import share_target_get

    team = Group.objects.create(name="East")
    assert share_target_get(kind="user", pk=sales_user.pk) == sales_user
    assert share_target_get(kind="team", pk=team.pk) == team
    for kind, pk in (("robot", sales_user.pk), ("user", "not-a-pk"), ("team", 10**9)):
        with pytest.raises(Http404):
            share_target_get(kind=kind, pk=pk)
