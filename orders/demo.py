"""Demo purchase histories with signal for the profile pipeline, plus tickets, projects and opportunities.

Latent buyer groups (frequent small-basket app buyers, occasional big spenders, one-time buyers, lapsed
buyers who stopped a year ago, regulars), category affinity pairs, and seasonality (双十一 11 Nov, 618,
Christmas/New Year; a Spring Festival dip) over three years. Generated per chunk of customers with numpy and
written with bulk_create, so memory stays bounded at 1,000,000 customers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.utils import timezone

from crm_site.demo import SeedContext
from crm_site.visibility import sees_everything
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
from orders.services.bulk import build_instances, field_defaults, money_from_cents
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


def _day_weights(today: date) -> np.ndarray:
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


def seed(ctx: SeedContext) -> None:
    catalog = _seed_catalog(ctx)
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    plan = _Plan(catalog["by_code"], today.date())
    counters = {"customers": 0, "orders": 0, "lines": 0}
    for ids, owners in _customer_chunks(ctx):
        orders, lines = _purchase_chunk(ctx, plan, ids, owners, today, now, counters["orders"])
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


class _Plan:
    """The catalogue as arrays: per (category code, price class) the products a line may pick."""

    def __init__(self, by_code: dict[str, list[tuple[Any, str, int, Any]]], today: date) -> None:
        self.day_p = _day_weights(today)
        self.old_p = self.day_p.copy()
        self.old_p[:365] = 0  # lapsed buyers stopped a year ago
        self.old_p /= self.old_p.sum()
        self.codes = [code for code, _n, _i in CATALOG]
        self.products: list[tuple[Any, str, Any]] = []  # (pk, sku, category id)
        prices: list[int] = []
        choices: list[list[list[int]]] = []
        for code in self.codes:
            items = by_code.get(code, [])
            first = len(self.products)
            for pk, sku, price, category_id in items:
                self.products.append((pk, sku, category_id))
                prices.append(int(price) * 100)
            indexed = [(first + offset, item[2]) for offset, item in enumerate(items)]
            cheap = sorted(indexed, key=lambda item: item[1])[: max(2, len(items) - 1)]
            dear = sorted(indexed, key=lambda item: -item[1])[:2]
            # price class 0: small baskets lean cheap; 1: anything; 2: big spenders take the priciest
            choices.append([[i for i, _p in cheap], [i for i, _p in indexed], [i for i, _p in dear]])
        self.price_cents = np.array(prices, dtype=np.int64)
        width = max(1, max(len(c) for per in choices for c in per))
        self.choice = np.zeros((len(self.codes), 3, width), dtype=np.int64)
        self.choice_len = np.zeros((len(self.codes), 3), dtype=np.int64)
        for c, per in enumerate(choices):
            for k, options in enumerate(per):
                self.choice[c, k, : len(options)] = options
                self.choice_len[c, k] = len(options)
        self.pairs = np.array([[self.codes.index(a), self.codes.index(b)] for a, b in AFFINITY_PAIRS])
        names = list(GROUPS)
        self.shares = np.array([GROUPS[g][0] for g in names])
        self.shares = self.shares / self.shares.sum()
        self.low = np.array([GROUPS[g][1][0] for g in names])
        self.high = np.array([GROUPS[g][1][1] for g in names])
        self.channel_p = [GROUPS[g][2] for g in names]
        self.price_class = np.array([0 if GROUPS[g][3] < 1 else 2 if GROUPS[g][3] >= 3 else 1 for g in names])
        self.lapsed = names.index("lapsed")
        self.last_orders = 0


def _uuids(nprng: np.random.Generator, count: int) -> list[uuid.UUID]:
    """Version-4 UUIDs from the seeded generator (deterministic, unlike uuid4())."""
    raw = nprng.bytes(16 * count)
    return [uuid.UUID(bytes=raw[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def _purchase_chunk(
    ctx: SeedContext,
    plan: _Plan,
    ids: list[Any],
    owners: list[Any],
    today: datetime,
    now: datetime,
    numbered: int,
) -> tuple[list[SalesOrder], list[OrderLine]]:
    """One chunk of customers' orders and lines, every random draw done as a numpy array."""
    rng = ctx.numpy_rng
    n = len(ids)
    groups = rng.choice(len(plan.shares), size=n, p=plan.shares)
    pair_of = rng.integers(0, len(plan.pairs), size=n)
    counts = np.where(plan.high[groups] > 0, rng.integers(plan.low[groups], plan.high[groups] + 1), 0)
    who = np.repeat(np.arange(n), counts)  # customer index of each order
    total = len(who)
    plan.last_orders = total
    group = groups[who]
    days = rng.choice(DAYS, size=total, p=plan.day_p)
    lapsed = group == plan.lapsed
    days[lapsed] = rng.choice(DAYS, size=int(lapsed.sum()), p=plan.old_p)
    # Time of day: shopping hours; orders of today fall between midnight and now, never later.
    seconds = rng.choice(HOURS, size=total) * 3600 + rng.integers(0, 3600, size=total)
    elapsed = max(1, int((now - today).total_seconds()))
    seconds = np.where(days == 0, rng.integers(0, elapsed, size=total), seconds)
    channels = np.zeros(total, dtype=np.int64)
    for g, channel_p in enumerate(plan.channel_p):
        chosen = group == g
        if channel_p and chosen.any():
            channels[chosen] = rng.choice(len(CHANNELS), size=int(chosen.sum()), p=channel_p)
    statuses = _statuses(rng, days)
    # Lines: 1-4 per order; bigger baskets for big spenders.
    per_order = 1 + rng.binomial(3, np.where(plan.price_class[group] == 0, 0.3, 0.45))
    line_order = np.repeat(np.arange(total), per_order)
    lines_n = len(line_order)
    roll = rng.random(lines_n)
    pair = plan.pairs[pair_of[who[line_order]]]
    code = np.where(roll < 0.45, pair[:, 0], np.where(roll < 0.75, pair[:, 1], -1))
    wild = code < 0
    code[wild] = rng.integers(0, len(plan.codes), size=int(wild.sum()))
    klass = plan.price_class[group[line_order]]
    pick = (rng.random(lines_n) * plan.choice_len[code, klass]).astype(np.int64)
    product = plan.choice[code, klass, pick]
    quantity = 1 + rng.binomial(2, 0.2, size=lines_n)
    gross = plan.price_cents[product] * quantity
    discounted = rng.random(lines_n) < 0.15
    discount = np.where(discounted, gross * rng.integers(5, 16, size=lines_n) // 100, 0)
    net = gross - discount
    starts = np.concatenate(([0], np.cumsum(per_order)[:-1])) if total else np.zeros(0, dtype=np.int64)
    subtotal = np.add.reduceat(net, starts) if total else np.zeros(0, dtype=np.int64)
    order_ids = _uuids(rng, total)
    line_ids = _uuids(rng, lines_n)
    stamps = [today - timedelta(days=int(d), seconds=-int(s)) for d, s in zip(days, seconds, strict=True)]
    order_defaults, line_defaults = field_defaults(SalesOrder), field_defaults(OrderLine)
    orders = build_instances(
        SalesOrder,
        order_defaults,
        (
            {
                "id": order_ids[i],
                "number": f"SO-D{numbered + i + 1:09d}",
                "customer_id": ids[c],
                "owner_id": owners[c],
                "status": STATUS_NAMES[st],
                "channel": CHANNELS[ch],
                "ordered_at": at,
                "subtotal": money_from_cents(cents),
                "total": money_from_cents(cents),
            }
            for i, (c, st, ch, at, cents) in enumerate(
                zip(
                    who.tolist(), statuses.tolist(), channels.tolist(), stamps, subtotal.tolist(), strict=True
                )
            )
        ),
    )
    products = plan.products
    lines = build_instances(
        OrderLine,
        line_defaults,
        (
            {
                "id": line_ids[i],
                "order_id": order_ids[o],
                "product_id": products[p][0],
                "category_id": products[p][2],
                "sku": products[p][1],
                "quantity": q,
                "unit_price": money_from_cents(price),
                "discount": money_from_cents(d),
                "line_total": money_from_cents(cents),
            }
            for i, (o, p, q, price, d, cents) in enumerate(
                zip(
                    line_order.tolist(),
                    product.tolist(),
                    quantity.tolist(),
                    plan.price_cents[product].tolist(),
                    discount.tolist(),
                    net.tolist(),
                    strict=True,
                )
            )
        ),
    )
    return orders, lines


STATUS_NAMES = ["completed", "shipped", "confirmed", "paid", "cancelled", "refunded"]
HOURS = np.array([10, 12, 15, 20, 21, 22])


def _statuses(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Index into STATUS_NAMES: recent orders still on their way, a few cancelled or refunded."""
    roll = rng.random(len(days))
    recent = rng.integers(1, 4, size=len(days))  # shipped, confirmed, paid
    status = np.where(days < 3, recent, np.where(days < 10, 1, 0))
    status = np.where(roll < 0.08, 5, status)
    return np.where(roll < 0.05, 4, status)


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
