"""The orders app's personal-data handler (issue 13): export every section, erase the free text only."""

from decimal import Decimal

import pytest

from crm_site.personal_data import personal_data
from orders.models import Milestone, OrderLine, SalesOrder, ServiceOrder
from orders.tests.factories import (
    CustomerFactory,
    OpportunityFactory,
    OrderLineFactory,
    ProjectFactory,
    SalesOrderFactory,
    ServiceOrderFactory,
)

pytestmark = pytest.mark.django_db


def _handler():
    return next(handler for handler in personal_data.handlers() if handler.key == "orders")


def test_export_and_erase_keep_the_accounting(sales_user):
    customer = CustomerFactory(owner=sales_user)
    order = SalesOrderFactory(customer=customer, owner=sales_user, notes="ring Mrs Lin at the gate")
    OrderLineFactory(order=order, quantity=3, unit_price=Decimal("20.00"), description="for Lin's son")
    ServiceOrderFactory(customer=customer, subject="Lin's fridge", description="noisy", resolution="fixed",
                        status=ServiceOrder.Status.RESOLVED)  # fmt: skip
    project = ProjectFactory(customer=customer, name="Lin kitchen")
    Milestone.objects.create(project=project, name="Measure Lin's kitchen", due_date="2026-01-01")
    OpportunityFactory(customer=customer, name="Lin upsell", lost_reason="Lin moved")
    exported = _handler().export(customer.pk)
    assert exported["sales_orders"][0]["notes"] == "ring Mrs Lin at the gate"
    assert exported["order_lines"][0]["description"] == "for Lin's son"
    assert exported["milestones"][0]["name"] == "Measure Lin's kitchen"
    assert [len(exported[key]) for key in ("service_tickets", "projects", "opportunities")] == [1, 1, 1]

    counts = _handler().erase(customer.pk, request=None)
    assert counts.pop("import_files") == 0  # no import file mentions Lin (customers/tests/test_dsr_review.py)
    assert set(counts.values()) == {1}
    order = SalesOrder.objects.get(pk=order.pk)
    assert order.notes == "" and order.total == Decimal("60.00") and order.number
    assert OrderLine.objects.get(order=order).quantity == 3
    ticket = ServiceOrder.objects.get(customer=customer)
    assert (ticket.subject, ticket.description, ticket.resolution) == ("[erased]", "", "")
    assert _handler().erase(customer.pk, request=None) == dict.fromkeys(["import_files", *counts], 0)


def test_an_open_ticket_blocks_the_erasure(sales_user):
    customer = CustomerFactory(owner=sales_user)
    ServiceOrderFactory(customer=customer, number="SR-OPEN-9", status=ServiceOrder.Status.WAITING)
    assert "SR-OPEN-9" in _handler().blockers(customer.pk)[0]
    ServiceOrder.objects.filter(customer=customer).update(status=ServiceOrder.Status.CLOSED)
    assert _handler().blockers(customer.pk) == []
