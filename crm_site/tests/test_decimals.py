"""Amounts keep their decimal places on every backend (MongoDB stored Decimal("65000") as 65000)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Opportunity, Project
from orders.tests.factories import OpportunityFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_an_amount_computed_from_integers_is_read_back_with_its_two_decimal_places(sales_user):
    project = ProjectFactory(customer__owner=sales_user, budget=Decimal(65) * 1000)

    assert str(Project.objects.get(pk=project.pk).budget) == "65000.00"


def test_values_lists_read_the_amount_with_its_two_decimal_places(sales_user):
    OpportunityFactory(customer__owner=sales_user, amount=Decimal("100.5"))

    assert [str(amount) for amount in Opportunity.objects.values_list("amount", flat=True)] == ["100.50"]


def test_the_project_page_shows_the_budget_with_its_decimals(client, sales_user):
    project = ProjectFactory(customer__owner=sales_user, budget=Decimal(65000))
    client.force_login(sales_user)

    html = client.get(reverse("orders:project-detail", args=[project.pk])).content.decode()

    assert "65,000.00" in html
    assert "65,000<" not in html
