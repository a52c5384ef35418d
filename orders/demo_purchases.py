"""Demo purchase histories as numpy arrays: one chunk of customers' orders and lines at a time.

Latent buyer groups (frequent small-basket app buyers, occasional big spenders, one-time buyers, lapsed
buyers who stopped a year ago, regulars), category affinity pairs, and seasonality (双十一 11 Nov, 618,
Christmas/New Year; a Spring Festival dip) over three years. Every random draw is an array operation per
chunk (no per-order Python random calls); timestamps are strictly before ``now``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from crm_site.bulk import build_instances, field_defaults
from crm_site.demo import SeedContext
from orders.demo_catalog import AFFINITY_PAIRS, CATALOG
from orders.models import OrderLine, SalesOrder
from orders.services.bulk import money_from_cents

DAYS = 3 * 365
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


class PurchasePlan:
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


def purchase_chunk(
    ctx: SeedContext,
    plan: PurchasePlan,
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
