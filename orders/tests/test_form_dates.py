"""Ticket, project, opportunity and sales-order forms: create and edit, valid and invalid (issue 9)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Milestone, Opportunity, Project, SalesOrder, ServiceOrder
from orders.tests.factories import OpportunityFactory, ProjectFactory, SalesOrderFactory, ServiceOrderFactory


def _order(**overrides):
    data = {
        "customer": "C-OWN",
        "channel": "store",
        "ordered_at": "2024-05-01T10:00",
        "currency": "CNY",
        "order_discount": "0",
        "notes": "",
    }
    data.update(overrides)
    return data


def _ticket(**overrides):
    data = {
        "customer": "C-OWN",
        "subject": "Screen flickers",
        "type": "repair",
        "priority": "high",
        "assignee": "",
        "description": "",
    }
    data.update(overrides)
    return data


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


def _opportunity(**overrides):
    data = {
        "customer": "C-OWN",
        "name": "Annual contract",
        "amount": "5000",
        "currency": "CNY",
        "stage": "proposal",
        "probability": "",
        "expected_close_date": "2025-03-31",
        "lost_reason": "",
    }
    data.update(overrides)
    return data


OUT_OF_RANGE_DATES = ["0001-01-01", "1899-12-31", "9999-12-31"]


@pytest.mark.django_db
@pytest.mark.parametrize("day", OUT_OF_RANGE_DATES)
def test_sales_order_create_refuses_out_of_range_dates(client, sales_user, own_customer, day):
    client.force_login(sales_user)
    response = client.post(reverse("orders:salesorder-create"), _order(ordered_at=f"{day}T00:00"))
    assert response.status_code == 200
    assert "ordered_at" in response.context["form"].errors
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("day", OUT_OF_RANGE_DATES)
def test_sales_order_edit_refuses_out_of_range_dates(client, sales_user, own_customer, day):
    order = SalesOrderFactory(customer=own_customer, status="draft")
    client.force_login(sales_user)
    response = client.post(
        reverse("orders:salesorder-edit", args=[order.pk]), _order(ordered_at=f"{day}T00:00")
    )
    assert response.status_code == 200
    assert "ordered_at" in response.context["form"].errors
    order.refresh_from_db()
    assert order.ordered_at.year > 2000


@pytest.mark.django_db
def test_sales_order_create_at_the_range_edges(client, sales_user, own_customer):
    client.force_login(sales_user)
    for stamp in ("1900-01-01T00:00", "2100-12-31T23:59"):
        assert client.post(reverse("orders:salesorder-create"), _order(ordered_at=stamp)).status_code == 302
    assert SalesOrder.objects.count() == 2


@pytest.mark.django_db
def test_ticket_create_and_edit(client, sales_user, own_customer):
    client.force_login(sales_user)
    response = client.post(reverse("orders:serviceorder-create"), _ticket(assignee=str(sales_user.pk)))
    ticket = ServiceOrder.objects.get()
    assert response.status_code == 302
    assert (ticket.subject, ticket.priority, ticket.assignee, ticket.owner) == (
        "Screen flickers",
        "high",
        sales_user,
        sales_user,
    )
    response = client.post(
        reverse("orders:serviceorder-edit", args=[ticket.pk]),
        _ticket(subject="Screen dead", priority="urgent"),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority) == ("Screen dead", "urgent")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", ""),
        ("priority", "asap"),
        ("type", "magic"),
        ("customer", "C-OTHER"),
        ("assignee", "999999"),
    ],
)
def test_ticket_form_errors_name_the_field(client, sales_user, own_customer, others_customer, field, value):
    client.force_login(sales_user)
    response = client.post(reverse("orders:serviceorder-create"), _ticket(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ServiceOrder.objects.exists()
    ticket = ServiceOrderFactory(customer=own_customer, subject="Keep me")
    response = client.post(reverse("orders:serviceorder-edit", args=[ticket.pk]), _ticket(**{field: value}))
    assert field in response.context["form"].errors
    ticket.refresh_from_db()
    assert ticket.subject == "Keep me"


@pytest.mark.django_db
def test_project_create_and_edit(client, sales_user, other_sales_user, own_customer):
    client.force_login(sales_user)
    response = client.post(reverse("orders:project-create"), _project(members=[str(other_sales_user.pk)]))
    project = Project.objects.get()
    assert response.status_code == 302
    assert (project.name, project.budget, str(project.end_date)) == (
        "Office fit-out",
        Decimal("1000.00"),
        "2024-06-30",
    )
    response = client.post(
        reverse("orders:project-edit", args=[project.pk]), _project(name="Fit-out 2", stage="active")
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.stage) == ("Fit-out 2", "active")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_date", "0001-01-01"),
        ("end_date", "9999-12-31"),
        ("start_date", "2024-02-30"),
        ("budget", "-5"),
        ("stage", "dreaming"),
        ("name", ""),
    ],
)
def test_project_form_errors_name_the_field(client, sales_user, own_customer, field, value):
    client.force_login(sales_user)
    response = client.post(reverse("orders:project-create"), _project(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Project.objects.exists()
    project = ProjectFactory(customer=own_customer, name="Keep me")
    response = client.post(reverse("orders:project-edit", args=[project.pk]), _project(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    project.refresh_from_db()
    assert project.name == "Keep me"


@pytest.mark.django_db
def test_project_end_before_start_is_refused(client, sales_user, own_customer):
    client.force_login(sales_user)
    response = client.post(
        reverse("orders:project-create"), _project(start_date="2024-06-01", end_date="2024-01-01")
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Project.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "garbage"])
def test_milestone_with_out_of_range_date_is_refused(client, sales_user, own_customer, day):
    project = ProjectFactory(customer=own_customer)
    client.force_login(sales_user)
    response = client.post(
        reverse("orders:milestone-create", args=[project.pk]), {"name": "M1", "due_date": day}
    )
    assert response.status_code == 302
    assert not Milestone.objects.exists()


@pytest.mark.django_db
def test_opportunity_create_and_edit(client, sales_user, own_customer):
    client.force_login(sales_user)
    response = client.post(reverse("orders:opportunity-create"), _opportunity())
    opportunity = Opportunity.objects.get()
    assert response.status_code == 302
    assert (opportunity.name, opportunity.amount, opportunity.stage) == (
        "Annual contract",
        Decimal("5000.00"),
        "proposal",
    )
    response = client.post(
        reverse("orders:opportunity-edit", args=[opportunity.pk]),
        _opportunity(amount="7000", probability="80"),
    )
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.amount, opportunity.probability) == (Decimal("7000.00"), 80)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expected_close_date", "0001-01-01"),
        ("expected_close_date", "9999-12-31"),
        ("probability", "101"),
        ("amount", "-1"),
        ("stage", "hoping"),
        ("customer", "C-OTHER"),
    ],
)
def test_opportunity_form_errors_name_the_field(
    client, sales_user, own_customer, others_customer, field, value
):
    client.force_login(sales_user)
    response = client.post(reverse("orders:opportunity-create"), _opportunity(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Opportunity.objects.exists()
    opportunity = OpportunityFactory(customer=own_customer, name="Keep me")
    response = client.post(
        reverse("orders:opportunity-edit", args=[opportunity.pk]), _opportunity(**{field: value})
    )
    assert field in response.context["form"].errors
    opportunity.refresh_from_db()
    assert opportunity.name == "Keep me"


@pytest.mark.django_db
def test_customer_error_does_not_say_whose_it_is(client, sales_user, own_customer, others_customer):
    client.force_login(sales_user)
    hidden = client.post(reverse("orders:opportunity-create"), _opportunity(customer="C-OTHER"))
    missing = client.post(reverse("orders:opportunity-create"), _opportunity(customer="C-NOBODY"))
    hidden_error = hidden.context["form"].errors["customer"][0].replace("C-OTHER", "X")
    missing_error = missing.context["form"].errors["customer"][0].replace("C-NOBODY", "X")
    assert hidden_error == missing_error
    assert "sales_b" not in hidden.content.decode()
