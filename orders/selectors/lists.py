"""List and detail reads, scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from crm_site.db import related_rows
from crm_site.visibility import VIEW, Action, visible_object_or_404
from orders.models import Opportunity, OrderImport, Product, Project, SalesOrder, ServiceOrder


def _text(filters: Mapping[str, Any] | None, key: str) -> str:
    return str((filters or {}).get(key) or "").strip()


def sales_order_list(*, user: Any, filters: Mapping[str, Any] | None = None) -> QuerySet[SalesOrder]:
    """Orders the user may see, newest first, filtered by text, status, channel or customer."""
    qs = related_rows(SalesOrder.objects.visible_to(user), "customer", "owner")
    if query := _text(filters, "q"):
        qs = qs.filter(Q(number__icontains=query) | Q(customer__name__icontains=query))
    if status := _text(filters, "status"):
        qs = qs.filter(status=status)
    if channel := _text(filters, "channel"):
        qs = qs.filter(channel=channel)
    if customer := _text(filters, "customer"):
        qs = qs.filter(customer_id=customer)
    return qs.order_by("-ordered_at", "-number")


def sales_order_get(*, user: Any, pk: Any, action: Action = VIEW) -> SalesOrder:
    """One order the user may see (404 otherwise); with ``action="change"``, may change (403 otherwise)."""
    return visible_object_or_404(
        SalesOrder.objects.select_related("customer", "owner"), user, action=action, pk=pk
    )


def service_order_list(*, user: Any, filters: Mapping[str, Any] | None = None) -> QuerySet[ServiceOrder]:
    qs = ServiceOrder.objects.visible_to(user).select_related("customer", "assignee")
    if query := _text(filters, "q"):
        qs = qs.filter(
            Q(number__icontains=query) | Q(subject__icontains=query) | Q(customer__name__icontains=query)
        )
    if status := _text(filters, "status"):
        qs = qs.open() if status == "open" else qs.filter(status=status)
    if priority := _text(filters, "priority"):
        qs = qs.filter(priority=priority)
    if _text(filters, "breached"):
        qs = qs.filter(sla_breached=True)
    if _text(filters, "mine"):
        qs = qs.filter(assignee=user)
    return qs.order_by("-opened_at")


def service_order_get(*, user: Any, pk: Any, action: Action = VIEW) -> ServiceOrder:
    """One ticket the user may see (404 otherwise); with ``action="change"``, may work (403 otherwise)."""
    return visible_object_or_404(
        ServiceOrder.objects.select_related("customer", "assignee", "owner"), user, action=action, pk=pk
    )


def project_list(*, user: Any, filters: Mapping[str, Any] | None = None) -> QuerySet[Project]:
    qs = Project.objects.visible_to(user).select_related("customer", "owner")
    if query := _text(filters, "q"):
        qs = qs.filter(Q(name__icontains=query) | Q(customer__name__icontains=query))
    if stage := _text(filters, "stage"):
        qs = qs.filter(stage=stage)
    return qs.order_by("-created_at")


def project_get(*, user: Any, pk: Any, action: Action = VIEW) -> Project:
    return visible_object_or_404(
        Project.objects.select_related("customer", "owner"), user, action=action, pk=pk
    )


def opportunity_list(*, user: Any, filters: Mapping[str, Any] | None = None) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.visible_to(user).select_related("customer", "owner")
    if query := _text(filters, "q"):
        qs = qs.filter(Q(name__icontains=query) | Q(customer__name__icontains=query))
    if stage := _text(filters, "stage"):
        qs = qs.filter(stage=stage)
    return qs.order_by("expected_close_date", "-amount")


def opportunity_get(*, user: Any, pk: Any, action: Action = VIEW) -> Opportunity:
    return visible_object_or_404(
        Opportunity.objects.select_related("customer", "owner"), user, action=action, pk=pk
    )


def opportunity_board(*, user: Any, per_stage: int = 50) -> list[dict[str, Any]]:
    """The pipeline board: one column per stage with its cards (at most ``per_stage``) and total value.

    A fixed number of queries whatever the size: the rate table, one aggregate for the column totals (by
    stage and currency, each column a MoneyTotal in the base currency at today's rate), one read of the
    cards per stage.
    """
    from crm_site.money import MoneyTotal
    from orders.selectors.rates import rate_table
    from orders.selectors.summaries import stage_totals

    visible = Opportunity.objects.visible_to(user)
    rates = rate_table()
    totals = stage_totals(visible, rates=rates)
    ordered = visible.select_related("customer").order_by("expected_close_date", "-amount")
    # One slice per stage: a full column cannot crowd the others out.
    cards = {stage: list(ordered.filter(stage=stage)[:per_stage]) for stage in Opportunity.Stage.values}
    return [
        {
            "stage": stage,
            "label": label,
            "cards": cards[stage],
            "count": totals[stage].count if stage in totals else 0,
            "amount": totals.get(stage) or MoneyTotal(rates.base),
        }
        for stage, label in Opportunity.Stage.choices
    ]


def product_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Product]:
    """Products (the catalogue is shared by all staff)."""
    qs = Product.objects.select_related("category")
    if query := _text(filters, "q"):
        qs = qs.filter(Q(sku__icontains=query) | Q(name__icontains=query))
    if _text(filters, "active"):
        qs = qs.filter(active=True)
    return qs.order_by("sku")


def import_get(*, user: Any, pk: Any) -> OrderImport:
    return get_object_or_404(OrderImport.objects.visible_to(user), pk=pk)


def import_write_progress(*, job: OrderImport) -> dict[str, int] | None:
    """Lines written so far by a running import ({"done", "total", "percent"}), from the Celery task state.

    None when not writing, in eager mode, or when the result backend cannot be reached (the page then
    shows the row-based progress).
    """
    if job.status != OrderImport.Status.WRITING:
        return None
    from celery.result import AsyncResult

    try:
        result = AsyncResult(job.task_id)
        state, info = result.state, result.info
    except Exception:  # noqa: BLE001 - no result backend / Redis down: progress is a nicety
        return None
    if state != "PROGRESS" or not isinstance(info, dict) or not info.get("total"):
        return None
    done, total = int(info.get("done", 0)), int(info["total"])
    return {"done": done, "total": total, "percent": min(100, round(100 * done / total))}
