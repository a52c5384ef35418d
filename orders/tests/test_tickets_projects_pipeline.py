"""SLA computation across priorities, ticket workflow, projects and the pipeline rules."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from orders.models import Opportunity, ServiceOrder
from orders.services.opportunities import opportunity_create, opportunity_move
from orders.services.projects import milestone_create, project_create
from orders.services.tickets import (
    service_order_create,
    service_order_rate,
    service_order_transition,
    service_orders_flag_breaches,
    sla_due_at,
)

pytestmark = pytest.mark.django_db

OPENED = timezone.make_aware(datetime(2026, 3, 2, 9, 0))


@pytest.mark.parametrize(("priority", "hours"), [("urgent", 4), ("high", 24), ("normal", 72), ("low", 168)])
def test_sla_due_time_follows_priority(priority, hours):
    assert sla_due_at(priority=priority, opened_at=OPENED) == OPENED + timedelta(hours=hours)


def test_ticket_resolved_late_is_flagged_breached(own_customer, sales_user):
    ticket = service_order_create(
        customer=own_customer,
        owner=sales_user,
        subject="屏幕碎了 Screen broken",
        priority="urgent",
        opened_at=timezone.now() - timedelta(hours=5),
    )
    assert ticket.sla_due_at == ticket.opened_at + timedelta(hours=4)
    assert ticket.sla_breached  # already past due when opened 5 h ago
    resolved = service_order_transition(ticket=ticket, status="resolved", resolution="Replaced screen")
    assert resolved.sla_breached and resolved.resolved_at is not None


def test_ticket_resolved_in_time_is_not_breached(own_customer, sales_user):
    ticket = service_order_create(customer=own_customer, owner=sales_user, subject="Question", priority="low")
    ticket = service_order_transition(ticket=ticket, status="resolved", resolution="Answered")
    assert not ticket.sla_breached
    ticket = service_order_rate(ticket=ticket, satisfaction=5)
    assert ticket.satisfaction == 5


def test_resolving_needs_a_resolution(own_customer, sales_user):
    ticket = service_order_create(customer=own_customer, owner=sales_user, subject="Noise")
    with pytest.raises(ValidationError) as error:
        service_order_transition(ticket=ticket, status="resolved")
    assert "resolution" in error.value.message_dict


def test_satisfaction_outside_1_to_5_is_refused(own_customer, sales_user):
    ticket = service_order_create(customer=own_customer, owner=sales_user, subject="Noise")
    ticket = service_order_transition(ticket=ticket, status="resolved", resolution="ok")
    with pytest.raises(ValidationError) as error:
        service_order_rate(ticket=ticket, satisfaction=6)
    assert "satisfaction" in error.value.message_dict


def test_closed_ticket_cannot_reopen(own_customer, sales_user):
    ticket = service_order_create(customer=own_customer, owner=sales_user, subject="Noise")
    ticket = service_order_transition(ticket=ticket, status="closed")
    with pytest.raises(ValidationError):
        service_order_transition(ticket=ticket, status="in_progress")


def test_flag_breaches_marks_only_overdue_open_tickets_and_is_idempotent(own_customer, sales_user):
    late = service_order_create(customer=own_customer, owner=sales_user, subject="late", priority="urgent")
    fine = service_order_create(customer=own_customer, owner=sales_user, subject="fine", priority="low")
    later = timezone.now() + timedelta(hours=5)
    assert service_orders_flag_breaches(now=later) == 1
    assert service_orders_flag_breaches(now=later) == 0
    late.refresh_from_db()
    fine.refresh_from_db()
    assert late.sla_breached and not fine.sla_breached
    assert ServiceOrder.objects.filter(sla_breached=True).count() == 1


def test_project_dates_and_milestones(own_customer, sales_user, other_sales_user):
    with pytest.raises(ValidationError) as error:
        project_create(
            customer=own_customer,
            owner=sales_user,
            name="P",
            start_date=date(2026, 5, 1),
            end_date=date(2026, 4, 1),
        )
    assert "end_date" in error.value.message_dict
    project = project_create(
        customer=own_customer,
        owner=sales_user,
        name="安装 Install",
        budget=Decimal("5000"),
        start_date=date(2026, 4, 1),
        end_date=date(2026, 6, 30),
        members=[other_sales_user],
    )
    milestone_create(project=project, name="Kick-off", due_date=date(2026, 4, 2))
    with pytest.raises(ValidationError):
        milestone_create(project=project, name="Too late", due_date=date(2026, 7, 2))
    assert project.milestones.count() == 1


def test_board_move_sets_probability_and_lost_needs_reason(own_customer, sales_user):
    deal = opportunity_create(
        customer=own_customer, owner=sales_user, name="50 phones", amount=Decimal("99950")
    )
    assert deal.probability == 10
    opportunity_move(opportunity=deal, stage="proposal")
    assert deal.probability == 50
    with pytest.raises(ValidationError) as error:
        opportunity_move(opportunity=Opportunity.objects.get(pk=deal.pk), stage="lost")
    assert "lost_reason" in error.value.message_dict
    deal = opportunity_move(
        opportunity=Opportunity.objects.get(pk=deal.pk), stage="lost", lost_reason="Price"
    )
    assert deal.probability == 0 and deal.closed_at is not None
    assert Opportunity.objects.get(pk=deal.pk).lost_reason == "Price"


def test_breach_check_is_on_the_beat_schedule_once(db):
    from django_celery_beat.models import PeriodicTask

    from orders.services.schedule import SCHEDULE_NAME, ensure_breach_schedule

    ensure_breach_schedule()
    task = ensure_breach_schedule()
    assert PeriodicTask.objects.filter(name=SCHEDULE_NAME).count() == 1
    assert task.task == "orders.service_orders_flag_breaches_task" and task.interval.every == 15
    from orders.tasks import service_orders_flag_breaches_task

    assert task.task == service_orders_flag_breaches_task.name


def test_moving_a_category_moves_its_subtree_to_the_new_top_level(db):
    from orders.models import ProductCategory
    from orders.services.catalog import product_category_create, product_category_update

    old_top = product_category_create(name="Old 旧", code="old")
    new_top = product_category_create(name="New 新", code="new")
    middle = product_category_create(name="Middle 中", code="middle", parent=old_top)
    leaf = product_category_create(name="Leaf 叶", code="leaf", parent=middle)
    product_category_update(category=middle, parent=new_top)
    roots = dict(ProductCategory.objects.values_list("code", "root__code"))
    assert roots["middle"] == roots["leaf"] == "new" and roots["old"] == "old"
    product_category_update(category=middle, parent=None)  # now a top level of its own
    leaf.refresh_from_db()
    assert leaf.root_id == middle.pk


def test_a_category_cannot_move_under_its_own_descendant(db):
    from django.core.exceptions import ValidationError

    from orders.services.catalog import product_category_create, product_category_update

    top = product_category_create(name="Top", code="top")
    child = product_category_create(name="Child", code="child", parent=top)
    with pytest.raises(ValidationError) as caught:
        product_category_update(category=top, parent=child)
    assert "parent" in caught.value.message_dict
