"""What the orders module knows of customers' past, for the customers app's duplicates and merges.

Registered in ``crm_site.registry.customer_history`` (orders/panels.py): the customers app asks how much
history each of two duplicate records has without importing this app. The callers pass customers the
user may already see, so the counts need no visibility rule of their own.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, QuerySet

from orders.models import SalesOrder, ServiceOrder


def _count_and_last(qs: QuerySet, when: str) -> dict[Any, tuple[int, Any]]:
    rows = qs.order_by().values("customer_id").annotate(n=Count("pk"), last=Max(when))
    return {row["customer_id"]: (row["n"], row["last"]) for row in rows}


def sales_order_history(customer_ids: list[Any]) -> dict[Any, tuple[int, Any]]:
    """{customer pk: (number of sales orders, date of the latest)} in one query."""
    return _count_and_last(SalesOrder.objects.filter(customer_id__in=customer_ids), "ordered_at")


def service_order_history(customer_ids: list[Any]) -> dict[Any, tuple[int, Any]]:
    """{customer pk: (number of tickets, when the latest was opened)} in one query."""
    return _count_and_last(ServiceOrder.objects.filter(customer_id__in=customer_ids), "opened_at")
