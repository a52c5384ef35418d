"""What the form fuzzing of issue 13 found in the orders forms: each case a form error, never a 500."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm_site.forms import BoundedModelMultipleChoiceField
from orders.models import OrderLine, Project
from orders.models.common import MAX_QUANTITY
from orders.services import sales as sales_services
from orders.tests.factories import SalesOrderFactory

pytestmark = pytest.mark.django_db

HUGE_IDS = ["9" * 40, "-" + "9" * 40, str(2**63)]


def _project(**overrides):
    data = {
        "customer": "C-OWN",
        "name": "Office fit-out",
        "stage": "planning",
        "budget": "1000",
        "currency": "CNY",
        "start_date": "2024-01-01",
        "end_date": "2024-06-30",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("member", HUGE_IDS)
def test_project_create_refuses_a_member_id_the_database_cannot_hold(
    client, sales_user, own_customer, member
):
    client.force_login(sales_user)
    response = client.post(reverse("orders:project-create"), _project(members=[member]))
    assert response.status_code == 200
    assert response.context["form"].errors["members"]
    assert not Project.objects.exists()


def test_project_create_with_a_real_member_still_works(client, sales_user, other_sales_user, own_customer):
    client.force_login(sales_user)
    response = client.post(reverse("orders:project-create"), _project(members=[str(other_sales_user.pk)]))
    assert response.status_code == 302
    assert set(Project.objects.get().members.all()) == {sales_user, other_sales_user}


@pytest.mark.parametrize("budget", ["9" * 40, "1e309", "99999999999999.99", "-1"])
def test_project_create_refuses_a_budget_out_of_the_money_column(client, sales_user, own_customer, budget):
    client.force_login(sales_user)
    response = client.post(reverse("orders:project-create"), _project(budget=budget))
    assert response.status_code == 200
    assert response.context["form"].errors["budget"]
    assert not Project.objects.exists()


def test_bounded_multiple_choice_keeps_non_numeric_ids_invalid(sales_user):
    from django.contrib.auth import get_user_model

    field = BoundedModelMultipleChoiceField(queryset=get_user_model().objects.all())
    with pytest.raises(ValidationError):
        field.clean(["not-a-number"])
    assert list(field.clean([str(sales_user.pk)])) == [sales_user]


@pytest.mark.parametrize("quantity", [str(MAX_QUANTITY + 1), "9" * 30])
def test_order_line_add_refuses_a_quantity_past_the_limit(client, sales_user, own_customer, phones, quantity):
    order = SalesOrderFactory(customer=own_customer, owner=sales_user, status="draft")
    client.force_login(sales_user)
    response = client.post(
        reverse("orders:orderline-add", args=[order.pk]),
        {
            "category": str(phones.pk),
            "description": "Cable",
            "quantity": quantity,
            "unit_price": "999999999999.99",
            "discount": "0",
        },
    )
    assert response.status_code in (200, 302)
    assert not OrderLine.objects.filter(order=order).exists()


def test_order_line_service_refuses_a_quantity_past_the_limit(sales_user, own_customer, phones):
    order = SalesOrderFactory(customer=own_customer, owner=sales_user, status="draft")
    with pytest.raises(ValidationError) as error:
        sales_services.order_line_add(
            order=order,
            category=phones,
            description="Cable",
            quantity=10**30,
            unit_price=Decimal("999999999999.99"),
        )
    assert "quantity" in error.value.message_dict
    assert not OrderLine.objects.filter(order=order).exists()
