"""Aggregates for the customer panel, the dashboard cards and the managers' reports."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from crm_site.db import is_mongodb
from crm_site.visibility import sees_everything
from orders.models import Opportunity, OrderLine, ProductCategory, Project, SalesOrder, ServiceOrder

ZERO = Decimal("0.00")


def _dec(value: Any) -> Decimal:
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def sum_by(qs: QuerySet, group: str, amount: str) -> dict[Any, tuple[Decimal, int]]:
    """{group value: (sum of amount, row count)} computed by the database in one query."""
    rows = qs.order_by().values(group).annotate(total=Sum(amount), n=Count("pk"))
    return {row[group]: (_dec(row["total"]), row["n"]) for row in rows}


def customer_orders_summary(*, customer: Any, user: Any, limit: int = 5) -> dict[str, Any]:
    """What the customer page shows: recent orders, open tickets, projects, open opportunities, totals.

    A fixed number of queries (8) whatever the customer's history. On a page that got ``customer``
    through the customer selectors, each is a plain ``customer_id = ...`` lookup (see
    ``crm_site.visibility``); any other customer gets the full visibility rule.
    """
    orders = SalesOrder.objects.visible_to(user, within=customer)
    tickets = ServiceOrder.objects.visible_to(user, within=customer)
    projects = Project.objects.visible_to(user, within=customer)
    opportunities = Opportunity.objects.visible_to(user, within=customer)
    purchased = (
        orders.filter(status__in=SalesOrder.PURCHASED).order_by().aggregate(total=Sum("total"), n=Count("pk"))
    )
    open_opportunities = opportunities.exclude(stage__in=Opportunity.CLOSED_STAGES)
    pipeline = open_opportunities.order_by().aggregate(total=Sum("amount"), n=Count("pk"))
    open_tickets = tickets.open()
    return {
        "customer": customer,
        "orders": list(orders.order_by("-ordered_at")[:limit]),
        "order_count": orders.count(),
        "purchased_count": purchased["n"] or 0,
        "purchased_total": _dec(purchased["total"]),
        "tickets": list(open_tickets.order_by("sla_due_at")[:limit]),
        "open_ticket_count": open_tickets.count(),
        "projects": list(projects.order_by("-created_at")[:limit]),
        "opportunities": list(open_opportunities.order_by("expected_close_date")[:limit]),
        "pipeline_count": pipeline["n"] or 0,
        "pipeline_total": _dec(pipeline["total"]),
    }


def dashboard_summary(*, user: Any) -> dict[str, Any]:
    """The dashboard card: my open tickets (and breaches), my open pipeline."""
    mine = ServiceOrder.objects.open().filter(assignee=user)
    pipeline = (
        Opportunity.objects.filter(owner=user)
        .exclude(stage__in=Opportunity.CLOSED_STAGES)
        .order_by()
        .aggregate(total=Sum("amount"), n=Count("pk"))
    )
    return {
        "open_tickets": mine.count(),
        "breached_tickets": mine.filter(sla_breached=True).count(),
        "pipeline_count": pipeline["n"] or 0,
        "pipeline_total": _dec(pipeline["total"]),
        "is_manager": sees_everything(user),
    }


def _months_back(now: datetime, months: int) -> datetime:
    local = timezone.localtime(now)
    year, month = local.year, local.month - (months - 1)
    while month <= 0:
        month += 12
        year -= 1
    return local.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def revenue_by_month(*, currency: str = "CNY", months: int = 24, now: datetime | None = None) -> list[dict]:
    """Revenue of purchased orders per calendar month (local time), oldest first, zero-filled."""
    start = _months_back(now or timezone.now(), months)
    qs = SalesOrder.objects.filter(status__in=SalesOrder.PURCHASED, currency=currency, ordered_at__gte=start)
    buckets: dict[str, list[Any]] = defaultdict(lambda: [ZERO, 0])
    if is_mongodb():
        # TruncMonth in a GROUP BY is not portable to the MongoDB backend: sum in Python over two columns.
        for ordered_at, total in qs.values_list("ordered_at", "total").iterator(chunk_size=20_000):
            key = timezone.localtime(ordered_at).strftime("%Y-%m")
            buckets[key][0] += _dec(total)
            buckets[key][1] += 1
    else:
        from django.db.models.functions import TruncMonth

        rows = qs.order_by().annotate(month=TruncMonth("ordered_at")).values("month")
        for row in rows.annotate(total=Sum("total"), n=Count("pk")):
            key = row["month"].strftime("%Y-%m")
            buckets[key][0] += _dec(row["total"])
            buckets[key][1] += row["n"]
    result = []
    cursor = start
    for _i in range(months):
        key = cursor.strftime("%Y-%m")
        result.append({"month": key, "revenue": buckets[key][0], "orders": buckets[key][1]})
        cursor = cursor.replace(year=cursor.year + (cursor.month == 12), month=cursor.month % 12 + 1)
    return result


def revenue_by_category(*, currency: str = "CNY", since: datetime | None = None) -> list[dict]:
    """Revenue of purchased lines per top-level category, largest first."""
    qs = OrderLine.objects.filter(order__status__in=SalesOrder.PURCHASED, order__currency=currency)
    if since:
        qs = qs.filter(order__ordered_at__gte=since)
    # Group by the line's own category column (portable), then fold sub-categories into their root.
    names = dict(ProductCategory.objects.values_list("pk", "name"))
    roots = dict(ProductCategory.objects.values_list("pk", "root_id"))
    merged: dict[str, list[Any]] = defaultdict(lambda: [ZERO, 0])
    for category_id, (total, n) in sum_by(qs, "category_id", "line_total").items():
        root_id = roots.get(category_id) if category_id else None
        name = names.get(root_id, "") if root_id is not None else ""
        merged[name][0] += total
        merged[name][1] += n
    rows = [{"category": name, "revenue": total, "lines": n} for name, (total, n) in merged.items()]
    return sorted(rows, key=lambda row: row["revenue"], reverse=True)


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


def pipeline_by_stage() -> list[dict]:
    """Per stage: opportunities, total amount and probability-weighted amount."""
    totals = sum_by(Opportunity.objects.all(), "stage", "amount")
    return [
        {
            "stage": stage,
            "label": label,
            "count": totals.get(stage, (ZERO, 0))[1],
            "amount": totals.get(stage, (ZERO, 0))[0],
            "weighted": (
                totals.get(stage, (ZERO, 0))[0] * Opportunity.DEFAULT_PROBABILITY[stage] / 100
            ).quantize(Decimal("0.01")),
        }
        for stage, label in Opportunity.Stage.choices
    ]
