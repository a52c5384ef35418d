"""The orders update services: the given fields change, what follows from them is saved in the same write."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from crm_site.signals import customer_activity
from orders.models import Opportunity, Product, Project, ProjectMember, SalesOrder, ServiceOrder
from orders.services.catalog import product_update
from orders.services.opportunities import opportunity_update
from orders.services.projects import project_update
from orders.services.sales import sales_order_create, sales_order_update
from orders.services.tickets import service_order_update
from orders.tests.factories import (
    CustomerFactory,
    OpportunityFactory,
    ProjectFactory,
    ServiceOrderFactory,
)

pytestmark = pytest.mark.django_db


def test_service_order_update_moves_the_sla_with_the_priority_and_assigns_a_new_ticket(
    own_customer, other_sales_user
):
    ticket = ServiceOrderFactory(customer=own_customer, priority="normal")
    service_order_update(ticket=ticket, priority="urgent", assignee=other_sales_user)
    stored = ServiceOrder.objects.get(pk=ticket.pk)
    assert (stored.priority, stored.status, stored.assignee_id) == ("urgent", "assigned", other_sales_user.pk)
    assert stored.sla_due_at == stored.opened_at + timedelta(hours=4)


def test_service_order_update_of_the_subject_keeps_the_sla(own_customer):
    ticket = ServiceOrderFactory(customer=own_customer, priority="low")
    due = ServiceOrder.objects.get(pk=ticket.pk).sla_due_at
    service_order_update(ticket=ticket, subject="Screen cracked")
    stored = ServiceOrder.objects.get(pk=ticket.pk)
    assert (stored.subject, stored.sla_due_at, stored.status) == ("Screen cracked", due, "new")


def test_opportunity_update_to_lost_closes_it_with_the_reason_and_reopening_clears_it(own_customer):
    opportunity = OpportunityFactory(customer=own_customer, stage="proposal", probability=50)
    opportunity_update(opportunity=opportunity, stage="lost", lost_reason="Price")
    stored = Opportunity.objects.get(pk=opportunity.pk)
    assert (stored.stage, stored.probability, stored.lost_reason) == ("lost", 0, "Price")
    assert stored.closed_at is not None
    opportunity_update(opportunity=stored, stage="negotiation")
    stored = Opportunity.objects.get(pk=opportunity.pk)
    assert (stored.stage, stored.probability, stored.lost_reason, stored.closed_at) == (
        "negotiation",
        75,
        "",
        None,
    )


def test_opportunity_update_rounds_the_amount_to_cents(own_customer):
    opportunity = OpportunityFactory(customer=own_customer)
    opportunity_update(opportunity=opportunity, amount=Decimal("1234.565"))
    assert Opportunity.objects.get(pk=opportunity.pk).amount == Decimal("1234.57")


def test_project_update_changes_its_fields_and_keeps_the_owner_a_member(own_customer, other_sales_user):
    project = ProjectFactory(customer=own_customer)
    project_update(project=project, name="Fit-out", budget=Decimal("99.999"), members=[other_sales_user])
    stored = Project.objects.get(pk=project.pk)
    assert (stored.name, stored.budget) == ("Fit-out", Decimal("100.00"))
    members = set(ProjectMember.objects.filter(project=project).values_list("user_id", flat=True))
    assert members == {project.owner_id, other_sales_user.pk}


def test_product_update_rounds_the_price_and_leaves_other_fields(phone):
    product_update(product=phone, unit_price=Decimal("10.005"))
    stored = Product.objects.get(pk=phone.pk)
    assert (stored.unit_price, stored.name, stored.sku) == (Decimal("10.01"), "Phone X 手机", "PH-1")


def test_sales_order_update_recomputes_the_total_and_announces_both_customers(
    own_customer, sales_user, phone, django_capture_on_commit_callbacks
):
    order = sales_order_create(
        customer=own_customer, owner=sales_user, lines=[{"product": phone, "quantity": 1}]
    )
    other = CustomerFactory(owner=sales_user)
    announced: list = []

    def receiver(sender, customer_ids, **kwargs):
        announced.extend(customer_ids)

    customer_activity.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sales_order_update(order=order, order_discount=Decimal("99"), customer=other)
    finally:
        customer_activity.disconnect(receiver)
    stored = SalesOrder.objects.get(pk=order.pk)
    assert (stored.total, stored.customer_id) == (Decimal("1900.00"), other.pk)
    assert {str(pk) for pk in announced} >= {str(own_customer.pk), str(other.pk)}


def test_editing_a_ticket_through_the_form_saves_the_change(client, sales_user, own_customer):
    ticket = ServiceOrderFactory(customer=own_customer, owner=sales_user)
    client.force_login(sales_user)
    response = client.post(
        reverse("orders:serviceorder-edit", args=[ticket.pk]),
        {"customer": own_customer.pk, "subject": "New subject", "type": ticket.type, "priority": "high"},
    )
    assert response.status_code == 302
    stored = ServiceOrder.objects.get(pk=ticket.pk)
    assert (stored.subject, stored.sla_due_at) == ("New subject", stored.opened_at + timedelta(hours=24))
