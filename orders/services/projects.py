"""Projects, their members and milestones."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_site.db import atomic
from crm_site.services import UNCHANGED, Unchanged, given, model_update
from orders.models import Milestone, Project, ProjectMember
from orders.services.sales import money

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from customers.models import Customer


@atomic
def project_create(
    *,
    customer: Any,
    owner: Any,
    name: str,
    stage: str = Project.Stage.PLANNING,
    budget: Decimal = Decimal("0"),
    currency: str = "CNY",
    start_date: date | None = None,
    end_date: date | None = None,
    members: list[Any] | None = None,
) -> Project:
    """A new project for a customer; the owner is always a member."""
    project = Project(
        customer=customer,
        owner=owner,
        name=name,
        stage=stage,
        budget=money(budget),
        currency=currency,
        start_date=start_date,
        end_date=end_date,
    )
    project.full_clean()
    project.save()
    project_members_set(project=project, users=[owner, *(members or [])])
    return project


PROJECT_FIELDS = ["customer", "name", "stage", "budget", "currency", "start_date", "end_date"]


@atomic
def project_update(
    *,
    project: Project,
    customer: Customer | Unchanged = UNCHANGED,
    name: str | Unchanged = UNCHANGED,
    stage: str | Unchanged = UNCHANGED,
    budget: Decimal | Unchanged = UNCHANGED,
    currency: str | Unchanged = UNCHANGED,
    start_date: date | None | Unchanged = UNCHANGED,
    end_date: date | None | Unchanged = UNCHANGED,
    members: list[User] | None = None,
) -> Project:
    """Change a project's fields (and, when given, its member list; the owner stays a member)."""
    data = given(
        customer=customer, name=name, stage=stage, currency=currency, start_date=start_date, end_date=end_date
    )
    if not isinstance(budget, Unchanged):
        data["budget"] = money(budget)
    project, _updated = model_update(instance=project, fields=PROJECT_FIELDS, data=data)
    if members is not None:
        project_members_set(project=project, users=[project.owner, *members])
    return project


@atomic
def project_members_set(*, project: Project, users: list[Any]) -> None:
    """Make the member list exactly ``users`` (delete by a materialised pk list: portable)."""
    wanted = {user.pk: user for user in users}
    current = dict(ProjectMember.objects.filter(project=project).values_list("user_id", "pk"))
    stale = [pk for user_id, pk in current.items() if user_id not in wanted]
    if stale:
        ProjectMember.objects.filter(pk__in=stale).delete()
    ProjectMember.objects.bulk_create(
        [ProjectMember(project=project, user=user) for pk, user in wanted.items() if pk not in current]
    )


@atomic
def milestone_create(*, project: Project, name: str, due_date: date) -> Milestone:
    """Add a milestone; it must fall inside the project's dates when those are set."""
    milestone = Milestone(project=project, name=name, due_date=due_date)
    milestone.full_clean()
    if (project.start_date and due_date < project.start_date) or (
        project.end_date and due_date > project.end_date
    ):
        raise ValidationError(
            {"due_date": _("The milestone must fall between the project's start and end dates.")}
        )
    milestone.save()
    return milestone


@atomic
def milestone_set_done(*, milestone: Milestone, done: bool = True) -> Milestone:
    milestone.done = done
    milestone.save(update_fields=["done", "updated_at"])
    return milestone
