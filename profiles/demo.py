"""Demo behaviour events consistent with the seeded orders, then (for small data) a first profile run.

About ten events per customer: browsing (page_view, app_open), bilingual searches for the categories
they buy, add_to_cart shortly before each recent order, a purchase event per recent order and the odd
coupon_use. Generated per chunk of customers with numpy; written with bulk_create in ctx.batch_size
batches, so memory stays bounded at 1,000,000 customers.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.utils import timezone

from crm_site.bulk import build_instances, field_defaults
from crm_site.demo import SeedContext
from profiles.models import Event

CUSTOMER_CHUNK = 20_000
SYNC_REBUILD_LIMIT = 20_000
CHANNELS = np.array(["web", "app", "wechat", "mini_program"])
CHANNEL_WEIGHTS = np.array([0.35, 0.35, 0.2, 0.1])
BROWSE_TYPES = np.array(["page_view", "app_open", "search", "coupon_use"])
BROWSE_WEIGHTS = np.array([0.5, 0.3, 0.17, 0.03])
QUERIES = [
    "连衣裙", "运动鞋", "蓝牙耳机", "手机壳", "保温杯", "口红", "奶粉", "小说", "咖啡豆", "羽绒服",
    "running shoes", "wireless earbuds", "laptop stand", "coffee beans", "winter jacket", "face cream",
    "kids books", "yoga mat",
]  # fmt: skip


def _orders_of(customer_ids: list[Any] | None) -> dict[str, list[tuple[Any, str, str]]]:
    """customer id -> its orders with lines (ordered_at, channel, a line's top-level category), newest first.

    Through the same orders selectors the profile pipeline reads; ``None`` for everyone's (two plain
    passes, no id lists: one chunk of customers is the whole seed).
    """
    try:
        from orders.selectors import purchased_lines, purchased_orders
    except ImportError:
        return {}
    found: dict[str, list[tuple[Any, str, str]]] = defaultdict(list)
    orders: dict[str, tuple[str, Any, str]] = {}
    for orders_chunk in purchased_orders(customer_ids=customer_ids, chunk_size=50_000):
        for order_id, customer_id, ordered_at, channel, *_currency in orders_chunk:
            orders[order_id] = (customer_id, ordered_at, channel)
    category: dict[str, str] = {}
    for chunk in purchased_lines(customer_ids=customer_ids, chunk_size=50_000, orders=orders):
        for _pk, order_id, line_category, *_rest in chunk:
            category.setdefault(order_id, line_category)
    for order_id, (customer_id, ordered_at, channel) in orders.items():
        if order_id in category:
            found[customer_id].append((ordered_at, channel, category[order_id]))
    for rows in found.values():
        rows.sort(key=lambda order: order[0], reverse=True)
    return found


def _build(defaults: dict[str, Any], columns: dict[str, list[Any]]) -> list[Event]:
    """Event instances from equal-length column lists, without Model.__init__ (checked values only)."""
    names = list(columns)
    rows = (
        {**dict(zip(names, values, strict=True)), "id": uuid.uuid4()}
        for values in zip(*columns.values(), strict=True)
    )
    return build_instances(Event, defaults, rows)


def _events_for_chunk(ctx: SeedContext, customer_ids: list[Any], now: Any, *, everyone: bool) -> list[Event]:
    rng = ctx.numpy_rng
    orders = _orders_of(None if everyone else customer_ids)
    browse_counts = rng.poisson(7, size=len(customer_ids))
    total = int(browse_counts.sum())
    types = rng.choice(BROWSE_TYPES, size=total, p=BROWSE_WEIGHTS)
    channels = rng.choice(CHANNELS, size=total, p=CHANNEL_WEIGHTS)
    ages = rng.exponential(60.0, size=total).clip(0, 700)
    hours = rng.normal(20.5, 3.0, size=total).clip(0, 23.9).astype(np.int64)
    queries = rng.integers(0, len(QUERIES), size=total)
    keys = rng.integers(0, 2**63, size=(total, 2), dtype=np.int64)
    # Whole arrays at once: the day `ages` ago, at the drawn evening hour, minute k % 60, never after now.
    # Annotated: from an Any `now` numpy infers datetime64[Any], whose `-` overload then yields timedelta.
    now64: np.datetime64 = np.datetime64(now.replace(tzinfo=None), "s")
    days = (now64 - (ages * 86_400).astype("timedelta64[s]")).astype("datetime64[D]")
    moments = days + hours * np.timedelta64(3600, "s") + (np.arange(total) % 60) * np.timedelta64(60, "s")
    moments = np.minimum(moments.astype("datetime64[s]"), now64)
    owners = np.repeat(np.arange(len(customer_ids)), browse_counts)
    type_list = types.tolist()
    columns: dict[str, list[Any]] = {
        "customer_id": [customer_ids[i] for i in owners.tolist()],
        "event_type": type_list,
        "occurred_at": list(pd.to_datetime(moments).tz_localize("UTC").to_pydatetime()),
        "channel": channels.tolist(),
        "properties": [
            {"query": QUERIES[q]} if kind == "search" else {}
            for kind, q in zip(type_list, queries.tolist(), strict=True)
        ],
        "idempotency_key": [f"demo-{uuid.UUID(int=int(a) << 64 | int(b))}" for a, b in keys.tolist()],
    }
    # Each of the three most recent orders: a search and an add-to-cart before it, the purchase itself.
    for customer_id in customer_ids:
        for n, (ordered_at, channel, category) in enumerate(orders.get(str(customer_id), [])[:3]):
            base = f"demo-o-{customer_id}-{n}"
            shown = category.split(" ")[-1] if category else QUERIES[n % len(QUERIES)]
            web = channel if channel in CHANNELS else "web"
            for kind, moment, where, properties, suffix in (
                ("search", ordered_at - timedelta(minutes=45), web, {"query": shown}, "s"),
                ("add_to_cart", ordered_at - timedelta(minutes=12), web, {"category": category}, "c"),
                ("purchase", ordered_at, channel or "store", {"category": category}, "p"),
            ):
                columns["customer_id"].append(customer_id)
                columns["event_type"].append(kind)
                columns["occurred_at"].append(moment)
                columns["channel"].append(where)
                columns["properties"].append(properties)
                columns["idempotency_key"].append(f"{base}-{suffix}")
    defaults = field_defaults(Event) | {"received_at": now}
    return _build(defaults, columns)


def _existing_customer_ids() -> list[Any]:
    """`seed_demo --only orders profiles` runs without the customers seeder: read the ids back."""
    from customers.selectors import customers_for_profiles

    return [row["id"] for chunk in customers_for_profiles(chunk_size=50_000) for row in chunk]


def seed(ctx: SeedContext) -> None:
    customer_ids: list[Any] = ctx.shared.get("customer_ids", []) or _existing_customer_ids()
    if not customer_ids:
        ctx.log("profiles: no customers seeded; skipping events")
        return
    now = timezone.now()
    written = 0
    for start in range(0, len(customer_ids), CUSTOMER_CHUNK):
        chunk = customer_ids[start : start + CUSTOMER_CHUNK]
        events = _events_for_chunk(ctx, chunk, now, everyone=len(chunk) == len(customer_ids))
        Event.objects.bulk_create(events, batch_size=ctx.batch_size)
        written += len(events)
        ctx.log(f"profiles: {written} events for {min(start + CUSTOMER_CHUNK, len(customer_ids))} customers")
    ctx.shared["event_count"] = written
    if len(customer_ids) <= SYNC_REBUILD_LIMIT:
        from profiles.services.rebuild import profile_rebuild_sync

        run = profile_rebuild_sync(trigger="command")
        profiles = run.counts.get("profiles", 0)
        ctx.log(f"profiles: first profile run {run.get_status_display()} ({profiles} profiles)")
    else:
        ctx.log("profiles: large data set; run `manage.py rebuild_profiles` (or wait for the nightly run)")
