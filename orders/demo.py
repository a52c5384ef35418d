"""Demo purchase histories with signal for the profile pipeline, plus tickets, projects and opportunities.

Latent buyer groups (frequent small-basket app buyers, occasional big spenders, one-time buyers, lapsed
buyers who stopped a year ago, regulars), category affinity pairs, and seasonality (双十一 11 Nov, 618,
Christmas/New Year; a Spring Festival dip) over three years. Generated per chunk of customers with numpy and
written with bulk_create, so memory stays bounded at 1,000,000 customers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.utils import timezone

from crm_site.demo import SeedContext
from orders.demo_catalog import AFFINITY_PAIRS, CATALOG
from orders.models import (
    Opportunity,
    OrderLine,
    Product,
    ProductCategory,
    Project,
    SalesOrder,
    ServiceOrder,
)
from orders.services.tickets import sla_due_at

DAYS = 3 * 365
CUSTOMER_CHUNK = 20_000
# group: (share of customers, (min, max) orders, channel weights (store/web/app/wechat/phone), price scale)
GROUPS = {
    "none": (0.30, (0, 0), None, 1.0),
    "frequent_app": (0.17, (6, 14), (0.05, 0.10, 0.55, 0.28, 0.02), 0.5),
    "big_spender": (0.07, (2, 5), (0.45, 0.35, 0.10, 0.05, 0.05), 3.0),
    "one_time": (0.24, (1, 1), (0.30, 0.35, 0.15, 0.15, 0.05), 1.0),
    "lapsed": (0.10, (3, 6), (0.30, 0.30, 0.20, 0.15, 0.05), 1.0),
    "regular": (0.12, (2, 6), (0.25, 0.30, 0.25, 0.15, 0.05), 1.0),
}
CHANNELS = ["store", "web", "app", "wechat", "phone"]


def _uuid(rng: Any) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _day_weights(today: datetime) -> np.ndarray:
    """Relative chance of an order on each of the last DAYS days (index 0 = today)."""
    weights = np.ones(DAYS)
    for offset in range(DAYS):
        day = today - timedelta(days=offset)
        month, dom = day.month, day.day
        if month == 11:
            weights[offset] = 1.6 + (6.0 if dom in (10, 11) else 0.0)  # 双十一
        elif month == 12:
            weights[offset] = 1.5
        elif month == 6 and 1 <= dom <= 18:
            weights[offset] = 1.4 + (3.0 if dom == 18 else 0.0)  # 618
        elif month == 2:
            weights[offset] = 0.6  # Spring Festival dip
    return weights / weights.sum()


def _seed_catalog(ctx: SeedContext) -> dict[str, Any]:
    """Categories with one sub-level, and products; returns lookups for the generator."""
    categories, products = [], []
    by_code: dict[str, list[tuple[uuid.UUID, str, int, uuid.UUID]]] = {}
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


def seed(ctx: SeedContext) -> None:
    customer_ids: list[Any] = ctx.shared.get("customer_ids", [])
    owner_ids: list[Any] = ctx.shared.get("customer_owner_ids", [])
    catalog = _seed_catalog(ctx)
    if not customer_ids:
        return
    nprng = ctx.numpy_rng
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    day_p = _day_weights(today)
    old_p = day_p.copy()
    old_p[:365] = 0
    old_p /= old_p.sum()
    codes = [code for code, _n, _i in CATALOG]
    group_names = list(GROUPS)
    shares = np.array([GROUPS[g][0] for g in group_names])
    counters = {"orders": 0, "lines": 0}
    for start in range(0, len(customer_ids), CUSTOMER_CHUNK):
        ids = customer_ids[start : start + CUSTOMER_CHUNK]
        owners = owner_ids[start : start + CUSTOMER_CHUNK]
        groups = nprng.choice(len(group_names), size=len(ids), p=shares / shares.sum())
        pairs = nprng.integers(0, len(AFFINITY_PAIRS), size=len(ids))
        orders: list[SalesOrder] = []
        lines: list[OrderLine] = []
        for position, (customer_id, owner_id) in enumerate(zip(ids, owners, strict=True)):
            group = group_names[groups[position]]
            _share, (low, high), channel_p, scale = GROUPS[group]
            count = int(nprng.integers(low, high + 1)) if high else 0
            if not count:
                continue
            days = nprng.choice(DAYS, size=count, p=old_p if group == "lapsed" else day_p)
            pair = AFFINITY_PAIRS[pairs[position]]
            for day in days:
                ordered_at = (
                    today
                    - timedelta(days=int(day))
                    + timedelta(
                        hours=int(nprng.choice([10, 12, 15, 20, 21, 22])), minutes=int(nprng.integers(0, 60))
                    )
                )
                status = _status(nprng, int(day))
                order = SalesOrder(
                    id=_uuid(ctx.rng),
                    number=f"SO-D{counters['orders'] + 1:09d}",
                    customer_id=customer_id,
                    owner_id=owner_id,
                    status=status,
                    channel=CHANNELS[int(nprng.choice(5, p=channel_p))],
                    ordered_at=ordered_at,
                    notes="",
                )
                counters["orders"] += 1
                subtotal = 0
                for _line in range(1 + int(nprng.binomial(3, 0.3 if scale < 1 else 0.45))):
                    roll = nprng.random()
                    code = (
                        pair[0]
                        if roll < 0.45
                        else pair[1]
                        if roll < 0.75
                        else codes[int(nprng.integers(len(codes)))]
                    )
                    items = catalog["by_code"][code]
                    if scale >= 3:  # big spenders lean to the priciest items
                        items = sorted(items, key=lambda item: -item[2])[:2]
                    elif scale < 1:
                        items = sorted(items, key=lambda item: item[2])[: max(2, len(items) - 1)]
                    product_id, sku, price, category_id = items[int(nprng.integers(len(items)))]
                    quantity = 1 + int(nprng.binomial(2, 0.2))
                    cents = price * 100 * quantity
                    discount = (cents * int(nprng.integers(5, 16)) // 100) if nprng.random() < 0.15 else 0
                    subtotal += cents - discount
                    lines.append(
                        OrderLine(
                            id=_uuid(ctx.rng),
                            order_id=order.pk,
                            product_id=product_id,
                            category_id=category_id,
                            sku=sku,
                            quantity=quantity,
                            unit_price=Decimal(price),
                            discount=Decimal(discount).scaleb(-2),
                            line_total=Decimal(cents - discount).scaleb(-2),
                        )
                    )
                order.subtotal = order.total = Decimal(subtotal).scaleb(-2)
                orders.append(order)
        SalesOrder.objects.bulk_create(orders, batch_size=ctx.batch_size)
        OrderLine.objects.bulk_create(lines, batch_size=ctx.batch_size)
        counters["lines"] += len(lines)
        _seed_service_and_pipeline(ctx, ids, owners, today)
        ctx.log(
            f"orders: {start + len(ids)} customers, {counters['orders']} orders, {counters['lines']} lines"
        )
    ctx.shared["order_count"] = counters["orders"]


def _next_ticket(ctx: SeedContext) -> int:
    ctx.shared["orders_ticket_seq"] = ctx.shared.get("orders_ticket_seq", 0) + 1
    return ctx.shared["orders_ticket_seq"]


def _status(nprng: Any, days_ago: int) -> str:
    roll = nprng.random()
    if roll < 0.05:
        return "cancelled"
    if roll < 0.08:
        return "refunded"
    if days_ago < 3:
        return ["confirmed", "paid", "shipped"][int(nprng.integers(3))]
    if days_ago < 10:
        return "shipped"
    return "completed"


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
    for customer_id, owner_id in zip(ids, owners, strict=True):
        roll = nprng.random()
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
