"""What the orders detail and form pages show besides their object (the object already checked)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from orders.models import (
    Milestone,
    OrderImport,
    OrderLine,
    Product,
    Project,
    ProjectMember,
    SalesOrder,
    ServiceOrder,
    StatusChange,
)


def sales_order_lines(*, order: SalesOrder) -> QuerySet[OrderLine]:
    """The order's lines with their product and category."""
    return order.lines.select_related("product", "category")


def status_history(*, obj: SalesOrder | ServiceOrder) -> list[StatusChange]:
    """The moves of a checked order or ticket, oldest first, with who made each."""
    field = "sales_order" if isinstance(obj, SalesOrder) else "service_order"
    return list(
        StatusChange.objects.filter(**{field: obj}).select_related("changed_by").order_by("changed_at")
    )


def order_line_get(*, order: SalesOrder, pk: Any) -> OrderLine:
    """One line of ``order`` (404 for a line of another order)."""
    return get_object_or_404(OrderLine, pk=pk, order=order)


def project_milestones(*, project: Project) -> list[Milestone]:
    return list(project.milestones.all())


def project_memberships(*, project: Project) -> list[ProjectMember]:
    """The project's members with their users."""
    return list(ProjectMember.objects.filter(project=project).select_related("user"))


def project_member_ids(*, project: Project) -> list[Any]:
    """The user ids of the project's members (the edit form's initial members)."""
    return list(ProjectMember.objects.filter(project=project).values_list("user_id", flat=True))


def import_list(*, user: Any, limit: int = 10) -> list[OrderImport]:
    """The latest order imports the user may see (their own; managers: everyone's)."""
    return list(OrderImport.objects.visible_to(user)[:limit])


def product_get(*, pk: Any) -> Product:
    """One catalogue product (the catalogue is shared by all staff; 404 when there is none)."""
    return get_object_or_404(Product, pk=pk)
