"""Demo purchase histories with signal for the profile pipeline, plus tickets, projects and opportunities.

Latent buyer groups (frequent small-basket app buyers, occasional big spenders, one-time buyers, lapsed
buyers who stopped a year ago, regulars), category affinity pairs, and seasonality (双十一 11 Nov, 618,
Christmas/New Year; a Spring Festival dip) over three years. Generated per chunk of customers with numpy and
written with bulk_create, so memory stays bounded at 1,000,000 customers.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone

from crm_site.demo import SeedContext
from crm_site.visibility import sees_everything
from orders.demo_catalog import CATALOG
from orders.demo_purchases import PurchasePlan, purchase_chunk
from orders.models import (
    ExchangeRate,
    Opportunity,
    OrderLine,
    Product,
    ProductCategory,
    Project,
    SalesOrder,
    ServiceOrder,
)
from orders.services.tickets import sla_due_at

CUSTOMER_CHUNK = 20_000


def _uuid(rng: Any) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _seed_catalog(ctx: SeedContext) -> dict[str, Any]:
    """Categories with one sub-level, and products; returns lookups for the generator."""
    categories, products = [], []
    by_code: dict[str, list[tuple[uuid.UUID, str, int, uuid.UUID | None]]] = {}
    for code, name, items in CATALOG:
        top = ProductCategory(id=_uuid(ctx.rng), name=name, code=code)
        top.root = top
        sub = ProductCategory(
            id=_uuid(ctx.rng), name=f"{name} · 热销 Best sellers", code=f"{code}-best", parent=top, root=top
        )
        categories += [top, sub]
        by_code[code] = []
        for index, (suffix, product_name, price) in enumerate(items):
            product = Product(
                id=_uuid(ctx.rng),
                sku=f"DEMO-{suffix}",
                name=product_name,
                category=sub if index % 2 else top,
                unit_price=Decimal(price),
            )
            products.append(product)
            by_code[code].append((product.pk, product.sku, price, product.category_id))
    existing = set(
        ProductCategory.objects.filter(code__in=[c.code for c in categories]).values_list("code", flat=True)
    )
    if existing:
        ctx.log("orders: demo catalogue already present; reusing it")
        by_code = {}
        for code, _name, _items in CATALOG:
            by_code[code] = [
                (pk, sku, int(price), category_id)
                for pk, sku, price, category_id in Product.objects.filter(
                    category__root__code=code, sku__startswith="DEMO-"
                ).values_list("pk", "sku", "unit_price", "category_id")
            ]
        return {"by_code": by_code}
    ProductCategory.objects.bulk_create([c for c in categories if c.parent_id is None])
    ProductCategory.objects.bulk_create([c for c in categories if c.parent_id is not None])
    Product.objects.bulk_create(products)
    return {"by_code": by_code}


def _customer_chunks(ctx: SeedContext) -> Iterator[tuple[list[Any], list[Any]]]:
    """(customer ids, owner ids) per chunk: from the customers seeder, or read back from the database.

    ``seed_demo --only orders`` runs without the customers seeder, so the ids are read in pk order
    (keyset, one query per chunk) through the customers selectors, as someone who sees everything.
    """
    customer_ids: list[Any] = ctx.shared.get("customer_ids", [])
    owner_ids: list[Any] = ctx.shared.get("customer_owner_ids", [])
    if customer_ids:
        for start in range(0, len(customer_ids), CUSTOMER_CHUNK):
            yield customer_ids[start : start + CUSTOMER_CHUNK], owner_ids[start : start + CUSTOMER_CHUNK]
        return
    from customers.selectors import customer_list

    reader = next((user for user in ctx.users.values() if sees_everything(user)), None)
    if reader is None:
        return
    last = None
    while True:
        qs = customer_list(user=reader).order_by("pk")
        if last is not None:
            qs = qs.filter(pk__gt=last)
        rows = list(qs.values_list("pk", "owner_id")[:CUSTOMER_CHUNK])
        if not rows:
            return
        last = rows[-1][0]
        yield [row[0] for row in rows], [row[1] for row in rows]


# Roughly where the yuan stood against each in 2023-2026, per unit of the currency.
DEMO_RATES = {"USD": Decimal("7.15"), "EUR": Decimal("7.80"), "HKD": Decimal("0.915")}


def _seed_rates(ctx: SeedContext, today: datetime) -> None:
    """A rate on the first of every month over the demo's three years (and this month), wiggling by up to
    2%, so an order a user enters in another currency converts; kept if any rates exist already."""
    if ExchangeRate.objects.exists():
        return
    base = settings.CRM_BASE_CURRENCY
    rng = random.Random(f"rates-{ctx.seed}")  # its own stream: the purchases stay as they were
    first = today.date().replace(day=1)
    months = [first]
    while len(months) < 37:
        previous = months[-1] - timedelta(days=1)
        months.append(previous.replace(day=1))
    rates = [
        ExchangeRate(
            id=_uuid(rng),
            currency=currency,
            rate_to_base=(rate * Decimal(1 + rng.uniform(-0.02, 0.02))).quantize(Decimal("0.0001")),
            valid_from=month,
        )
        for currency, rate in DEMO_RATES.items()
        if currency != base
        for month in months
    ]
    ExchangeRate.objects.bulk_create(rates, batch_size=ctx.batch_size)
    ctx.log(f"orders: {len(rates)} exchange rates into {base}")


def seed(ctx: SeedContext) -> None:
    catalog = _seed_catalog(ctx)
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    _seed_rates(ctx, today)
    plan = PurchasePlan(catalog["by_code"], today.date())
    counters = {"customers": 0, "orders": 0, "lines": 0}
    for ids, owners in _customer_chunks(ctx):
        orders, lines = purchase_chunk(ctx, plan, ids, owners, today, now, counters["orders"])
        SalesOrder.objects.bulk_create(orders, batch_size=ctx.batch_size)
        del orders
        OrderLine.objects.bulk_create(lines, batch_size=ctx.batch_size)
        counters["customers"] += len(ids)
        counters["orders"] += plan.last_orders
        counters["lines"] += len(lines)
        del lines
        _seed_service_and_pipeline(ctx, ids, owners, today)
        ctx.log("orders: {customers} customers, {orders} orders, {lines} lines".format(**counters))
    ctx.shared["order_count"] = counters["orders"]


def _next_ticket(ctx: SeedContext) -> int:
    ctx.shared["orders_ticket_seq"] = ctx.shared.get("orders_ticket_seq", 0) + 1
    return ctx.shared["orders_ticket_seq"]


TICKET_SUBJECTS = [
    ("repair", "屏幕不亮 Screen stays black"),
    ("complaint", "快递太慢 Delivery too slow"),
    ("return", "尺码不合适 Wrong size, want to return"),
    ("consultation", "如何保修 How does the warranty work?"),
    ("installation", "预约安装 Book an installation"),
]
DEAL_NAMES = ["企业采购 Corporate purchase", "门店合作 Store partnership", "年度框架 Annual framework deal"]


def _seed_service_and_pipeline(ctx: SeedContext, ids: list[Any], owners: list[Any], today: datetime) -> None:
    """About 6% of customers get a ticket, 2% an opportunity, 0.5% a project."""
    nprng = ctx.numpy_rng
    now = timezone.now()
    tickets, deals, projects = [], [], []
    rolls = nprng.random(len(ids))
    # Only the ~8.5% of customers who get something are visited one by one.
    for position in np.flatnonzero(rolls < 0.085).tolist():
        customer_id, owner_id, roll = ids[position], owners[position], rolls[position]
        if roll < 0.06:
            kind, subject = TICKET_SUBJECTS[int(nprng.integers(len(TICKET_SUBJECTS)))]
            priority = ["low", "normal", "normal", "high", "urgent"][int(nprng.integers(5))]
            opened = now - timedelta(hours=int(nprng.integers(1, 24 * 60)))
            due = sla_due_at(priority=priority, opened_at=opened)
            closed = nprng.random() < 0.75
            took = timedelta(hours=float(nprng.gamma(2.0, 20.0)))
            resolved = opened + took if closed and opened + took < now else None
            tickets.append(
                ServiceOrder(
                    id=_uuid(ctx.rng),
                    number=f"SR-D{_next_ticket(ctx):09d}",
                    customer_id=customer_id,
                    owner_id=owner_id,
                    assignee_id=owner_id,
                    type=kind,
                    priority=priority,
                    status="closed" if resolved else "in_progress",
                    subject=subject,
                    opened_at=opened,
                    sla_due_at=due,
                    resolved_at=resolved,
                    sla_breached=(resolved or now) > due,
                    resolution="已处理 Handled" if resolved else "",
                    satisfaction=int(nprng.integers(1, 6)) if resolved and nprng.random() < 0.6 else None,
                )
            )
        elif roll < 0.08:
            stage = Opportunity.Stage.values[int(nprng.integers(6))]
            deals.append(
                Opportunity(
                    id=_uuid(ctx.rng),
                    customer_id=customer_id,
                    owner_id=owner_id,
                    name=DEAL_NAMES[int(nprng.integers(len(DEAL_NAMES)))],
                    stage=stage,
                    amount=Decimal(int(nprng.integers(5, 500)) * 1000),
                    probability=Opportunity.DEFAULT_PROBABILITY[stage],
                    expected_close_date=(today + timedelta(days=int(nprng.integers(-30, 120)))).date(),
                    lost_reason="价格 Price" if stage == "lost" else "",
                    closed_at=now if stage in Opportunity.CLOSED_STAGES else None,
                )
            )
        elif roll < 0.085:
            start = (today - timedelta(days=int(nprng.integers(0, 200)))).date()
            projects.append(
                Project(
                    id=_uuid(ctx.rng),
                    customer_id=customer_id,
                    owner_id=owner_id,
                    name="门店改造 Store refit",
                    stage=["planning", "active", "on_hold", "done"][int(nprng.integers(4))],
                    budget=Decimal(int(nprng.integers(20, 300)) * 1000),
                    start_date=start,
                    end_date=start + timedelta(days=int(nprng.integers(30, 180))),
                )
            )
    ServiceOrder.objects.bulk_create(tickets, batch_size=ctx.batch_size)
    Opportunity.objects.bulk_create(deals, batch_size=ctx.batch_size)
    Project.objects.bulk_create(projects, batch_size=ctx.batch_size)
