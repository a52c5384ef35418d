"""Aggregates for the customer panel, the dashboard cards and the managers' reports."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from crm_site.money import MoneyTotal, RateTable
from crm_site.visibility import CHANGE, sees_all, sees_everything
from orders.models import Opportunity, OrderLine, ProductCategory, Project, SalesOrder, ServiceOrder
from orders.selectors.rates import day_rows, rate_table, total_in_base, totals_by

ZERO = Decimal("0.00")


def customer_orders_summary(*, customer: Any, user: Any, limit: int = 5) -> dict[str, Any]:
    """What the customer page shows: recent orders, open tickets, projects, open opportunities, totals.

    A fixed number of queries (9) whatever the customer's history. On a page that got ``customer``
    through the customer selectors, each is a plain ``customer_id = ...`` lookup (see
    ``crm_site.visibility``); any other customer gets the full visibility rule. Totals are MoneyTotals in
    the base currency: purchases at the rate of each order's day, the open pipeline at today's.
    """
    orders = SalesOrder.objects.visible_to(user, within=customer)
    tickets = ServiceOrder.objects.visible_to(user, within=customer)
    projects = Project.objects.visible_to(user, within=customer)
    opportunities = Opportunity.objects.visible_to(user, within=customer)
    rates = rate_table()
    purchased = total_in_base(
        orders.filter(status__in=SalesOrder.PURCHASED), amount="total", day_of="ordered_at", rates=rates
    )
    open_opportunities = opportunities.exclude(stage__in=Opportunity.CLOSED_STAGES)
    pipeline = total_in_base(open_opportunities, amount="amount", day_of=None, rates=rates)
    open_tickets = tickets.open()
    return {
        "customer": customer,
        "orders": list(orders.order_by("-ordered_at")[:limit]),
        "order_count": orders.count(),
        "purchased_count": purchased.count,
        "purchased_total": purchased,
        "tickets": list(open_tickets.order_by("sla_due_at")[:limit]),
        "open_ticket_count": open_tickets.count(),
        "projects": list(projects.order_by("-created_at")[:limit]),
        "opportunities": list(open_opportunities.order_by("expected_close_date")[:limit]),
        "pipeline_count": pipeline.count,
        "pipeline_total": pipeline,
    }


# A ticket whose SLA ends within this time is "due soon" on the dashboard.
SLA_DUE_SOON = timedelta(hours=24)


def dashboard_summary(*, user: Any) -> dict[str, Any] | None:
    """The dashboard's orders card: the tickets and pipeline the user works on (None: nothing for them).

    ``scope`` says whose: "team" for a manager (every open ticket, the whole open pipeline), "queue" for
    a service agent (every open ticket they may work: unassigned, due soon, past SLA, and theirs), "mine"
    for sales (the tickets assigned to them, the opportunities they own). A fixed number of counts and
    one pipeline aggregate, whatever the data size.
    """
    show_tickets = user.has_perm("orders.view_serviceorder")
    show_pipeline = user.has_perm("orders.view_opportunity")
    if not (show_tickets or show_pipeline):
        return None
    is_manager = sees_everything(user)
    scope = "team" if is_manager else "queue" if sees_all(user, ServiceOrder, CHANGE) else "mine"
    summary: dict[str, Any] = {
        "scope": scope,
        "show_tickets": show_tickets,
        "show_pipeline": show_pipeline,
        "is_manager": is_manager,
    }
    if show_tickets:
        open_tickets = ServiceOrder.objects.visible_to(user).open()
        if scope == "mine":
            open_tickets = open_tickets.filter(assignee=user)
        summary["open_tickets"] = open_tickets.count()
        summary["breached_tickets"] = open_tickets.filter(sla_breached=True).count()
        if scope != "mine":
            soon = timezone.now() + SLA_DUE_SOON
            summary["due_soon"] = open_tickets.filter(sla_breached=False, sla_due_at__lte=soon).count()
            summary["unassigned"] = open_tickets.filter(assignee__isnull=True).count()
        if scope == "queue":
            summary["mine"] = open_tickets.filter(assignee=user).count()
    if show_pipeline:
        opportunities = Opportunity.objects.visible_to(user).exclude(stage__in=Opportunity.CLOSED_STAGES)
        if scope == "mine":
            opportunities = opportunities.filter(owner=user)
        pipeline = total_in_base(opportunities, amount="amount", day_of=None, rates=rate_table())
        summary.update(pipeline_count=pipeline.count, pipeline_total=pipeline)
    return summary


def _months_back(now: datetime, months: int) -> datetime:
    local = timezone.localtime(now)
    year, month = local.year, local.month - (months - 1)
    while month <= 0:
        month += 12
        year -= 1
    return local.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _month_key(day: Any) -> str:
    return day.strftime("%Y-%m")


def revenue_by_month(
    *,
    currency: str | None = None,
    months: int = 24,
    now: datetime | None = None,
    rates: RateTable | None = None,
) -> list[dict]:
    """Revenue of purchased orders per calendar month (local time), oldest first, zero-filled.

    ``currency`` None: every order, converted into the base currency at the rate of its day (each
    row's ``revenue`` a MoneyTotal); a currency code: that currency's orders only, in it. The current
    month, still running, is marked ``partial``.
    """
    now = now or timezone.now()
    start = _months_back(now, months)
    qs = SalesOrder.objects.filter(status__in=SalesOrder.PURCHASED, ordered_at__gte=start)
    table = rates or rate_table()
    if currency:
        qs = qs.filter(currency=currency)
        table = RateTable(currency)
    buckets: dict[str, MoneyTotal] = defaultdict(lambda: MoneyTotal(table.base))
    for _key, code, day, total, n in day_rows(qs, amount="total", day_of="ordered_at"):
        assert day is not None  # grouped by day (base_by_day)
        buckets[_month_key(day)].add(table.total([(code, day, total, n)]))
    current = _month_key(timezone.localtime(now))
    result = []
    cursor = start
    for _i in range(months):
        key = cursor.strftime("%Y-%m")
        bucket = buckets.get(key) or MoneyTotal(table.base)
        result.append({"month": key, "revenue": bucket, "orders": bucket.count, "partial": key == current})
        cursor = cursor.replace(year=cursor.year + (cursor.month == 12), month=cursor.month % 12 + 1)
    return result


def revenue_by_category(
    *, currency: str | None = None, since: datetime | None = None, rates: RateTable | None = None
) -> list[dict]:
    """Revenue of purchased lines per top-level category, largest first (MoneyTotals; ``currency`` as in
    ``revenue_by_month``)."""
    qs = OrderLine.objects.filter(order__status__in=SalesOrder.PURCHASED)
    table = rates or rate_table()
    if currency:
        qs = qs.filter(order__currency=currency)
        table = RateTable(currency)
    if since:
        qs = qs.filter(order__ordered_at__gte=since)
    # Group by the line's own category column (portable), then fold sub-categories into their root.
    names = dict(ProductCategory.objects.values_list("pk", "name"))
    roots = dict(ProductCategory.objects.values_list("pk", "root_id"))
    rows = day_rows(
        qs,
        amount="line_total",
        day_of="order__ordered_at",
        currency="order__currency",
        group="category_id",
        base_by_day=False,
    )
    merged: dict[str, MoneyTotal] = defaultdict(lambda: MoneyTotal(table.base))
    for category_id, total in totals_by(rows, rates=table).items():
        root_id = roots.get(category_id) if category_id else None
        name = names.get(root_id, "") if root_id is not None else ""
        merged[name].add(total)
    result = [{"category": name, "revenue": total, "lines": total.count} for name, total in merged.items()]
    return sorted(result, key=lambda row: row["revenue"].amount, reverse=True)


def sla_breaches_by_priority() -> list[dict]:
    """Per priority: tickets, how many breached their SLA, and the breach rate."""
    all_counts = dict(ServiceOrder.objects.order_by().values_list("priority").annotate(n=Count("pk")))
    breached = dict(
        ServiceOrder.objects.filter(sla_breached=True)
        .order_by()
        .values_list("priority")
        .annotate(n=Count("pk"))
    )
    rows = []
    for priority, label in ServiceOrder.Priority.choices:
        total = all_counts.get(priority, 0)
        late = breached.get(priority, 0)
        rows.append(
            {
                "priority": priority,
                "label": label,
                "tickets": total,
                "breached": late,
                "rate": round(100 * late / total, 1) if total else 0.0,
            }
        )
    return rows


def stage_totals(queryset: QuerySet, *, rates: RateTable) -> dict[str, MoneyTotal]:
    """Opportunity amounts per stage in the base currency, at today's rate (they have not happened yet)."""
    rows = day_rows(queryset, amount="amount", day_of=None, group="stage")
    return totals_by(rows, rates=rates)


def pipeline_by_stage(*, rates: RateTable | None = None) -> list[dict]:
    """Per stage: opportunities, total amount and probability-weighted amount, in the base currency."""
    table = rates or rate_table()
    totals = stage_totals(Opportunity.objects.all(), rates=table)
    result = []
    for stage, label in Opportunity.Stage.choices:
        total = totals.get(stage) or MoneyTotal(table.base)
        weighted = (total.amount * Opportunity.DEFAULT_PROBABILITY[stage] / 100).quantize(Decimal("0.01"))
        result.append(
            {"stage": stage, "label": label, "count": total.count, "amount": total, "weighted": weighted}
        )
    return result
