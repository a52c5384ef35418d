"""Totals in the base currency: the rate table and sums grouped by currency and day, converted.

An order counts at the rate in force on its own day (local time); open opportunities, which have not
happened yet, at today's rate. What has no rate stays out of the converted amount and is reported by
``crm_site.money.MoneyTotal.missing`` ("no rate for EUR on 2026-03-01"), never taken at 1.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm_site.db import is_mongodb
from crm_site.money import MoneyTotal, RateTable, to_decimal
from orders.models import ExchangeRate


def base_currency() -> str:
    return str(settings.CRM_BASE_CURRENCY)


def rate_table() -> RateTable:
    """Every rate (one query; a small table: a rate a day per currency is ~1,500 rows over a year)."""
    rows = ExchangeRate.objects.order_by().values_list("currency", "valid_from", "rate_to_base")
    return RateTable(base_currency(), rows)


# (group value or None, currency, day or None, sum, count)
DayRow = tuple[Any, str, date | None, Any, int]


def day_rows(
    queryset: QuerySet,
    *,
    amount: str,
    day_of: str | None,
    currency: str = "currency",
    group: str | None = None,
    base_by_day: bool = True,
) -> list[DayRow]:
    """Sums of ``amount`` by (``group``,) currency and local day of ``day_of``, computed by the database.

    ``day_of=None`` groups by currency only (the day is then None: the caller's "today").
    ``base_by_day=False`` leaves base-currency rows ungrouped by day (they need no rate, and a report over
    years of history would otherwise fetch a row per day per group): one query by currency, then one by
    day over the other currencies found, if any.
    """
    keys = [group] if group else []
    qs = queryset.order_by()
    if day_of is None:
        rows = qs.values(*keys, currency).annotate(total=Sum(amount), n=Count("pk"))
        return [(row[group] if group else None, row[currency], None, row["total"], row["n"]) for row in rows]
    if is_mongodb():
        # TruncDate in a GROUP BY is not portable to the MongoDB backend: sum in Python over the columns.
        sums: dict[tuple[Any, str, date], list[Any]] = defaultdict(lambda: [to_decimal(0), 0])
        for *key, code, moment, value in qs.values_list(*keys, currency, day_of, amount).iterator(
            chunk_size=20_000
        ):
            bucket = sums[(key[0] if key else None, code, timezone.localtime(moment).date())]
            bucket[0] += to_decimal(value)
            bucket[1] += 1
        return [(key, code, day, total, n) for (key, code, day), (total, n) in sums.items()]
    result: list[DayRow] = []
    foreign = qs
    if not base_by_day:
        # One pass by currency; a second, by day, only over the currencies other than the base one that
        # are there (none in a single-currency shop).
        base = base_currency()
        others = set()
        for row in qs.values(*keys, currency).annotate(total=Sum(amount), n=Count("pk")):
            if row[currency] == base:
                result.append((row[group] if group else None, base, None, row["total"], row["n"]))
            else:
                others.add(row[currency])
        if not others:
            return result
        foreign = qs.filter(**{f"{currency}__in": sorted(others)})
    rows = (
        foreign.annotate(day=TruncDate(day_of, tzinfo=timezone.get_current_timezone()))
        .values(*keys, currency, "day")
        .annotate(total=Sum(amount), n=Count("pk"))
    )
    result.extend(
        (row[group] if group else None, row[currency], row["day"], row["total"], row["n"]) for row in rows
    )
    return result


def totals_by(rows: list[DayRow], *, rates: RateTable, today: date | None = None) -> dict[Any, MoneyTotal]:
    """{group value: MoneyTotal in the base currency}; a row without a day counts at ``today``'s rate."""
    today = today or timezone.localdate()
    grouped: dict[Any, list[tuple[str, date, Any, int]]] = defaultdict(list)
    for key, code, day, total, n in rows:
        grouped[key].append((code, day or today, total, n))
    return {key: rates.total(entries) for key, entries in grouped.items()}


def total_in_base(
    queryset: QuerySet, *, amount: str, day_of: str | None, rates: RateTable, today: date | None = None
) -> MoneyTotal:
    """One MoneyTotal for the whole queryset (an empty one when there are no rows)."""
    totals = totals_by(day_rows(queryset, amount=amount, day_of=day_of), rates=rates, today=today)
    return totals.get(None) or MoneyTotal(rates.base)
