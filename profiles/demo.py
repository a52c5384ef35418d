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
from django.utils import timezone

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


def _orders_of(customer_ids: list[Any]) -> dict[str, list[tuple[Any, str, str]]]:
    """customer id -> its orders (ordered_at, channel, category), newest first, via the orders selector."""
    try:
        from orders.selectors import purchase_lines
    except ImportError:
        return {}
    seen: set[str] = set()
    found: dict[str, list[tuple[Any, str, str]]] = defaultdict(list)
    for chunk in purchase_lines(customer_ids=customer_ids, chunk_size=50_000):
        for line in chunk:
            if line["order_id"] in seen:
                continue
            seen.add(line["order_id"])
            found[line["customer_id"]].append((line["ordered_at"], line["channel"], line["category"]))
    for orders in found.values():
        orders.sort(key=lambda order: order[0], reverse=True)
    return found


def _events_for_chunk(ctx: SeedContext, customer_ids: list[Any], now: Any) -> list[Event]:
    rng = ctx.numpy_rng
    orders = _orders_of(customer_ids)
    browse_counts = rng.poisson(7, size=len(customer_ids))
    total = int(browse_counts.sum())
    types = rng.choice(BROWSE_TYPES, size=total, p=BROWSE_WEIGHTS)
    channels = rng.choice(CHANNELS, size=total, p=CHANNEL_WEIGHTS)
    ages = rng.exponential(60.0, size=total).clip(0, 700)
    hours = rng.normal(20.5, 3.0, size=total).clip(0, 23.9)
    queries = rng.integers(0, len(QUERIES), size=total)
    keys = rng.integers(0, 2**63, size=(total, 2), dtype=np.int64)
    events: list[Event] = []
    position = 0
    for customer_id, count in zip(customer_ids, browse_counts, strict=True):
        for k in range(position, position + int(count)):
            day = (now - timedelta(days=float(ages[k]))).replace(hour=int(hours[k]), minute=int(k % 60))
            kind = str(types[k])
            events.append(
                Event(
                    customer_id=customer_id,
                    event_type=kind,
                    occurred_at=min(day, now),
                    channel=str(channels[k]),
                    properties={"query": QUERIES[queries[k]]} if kind == "search" else {},
                    idempotency_key=f"demo-{uuid.UUID(int=int(keys[k, 0]) << 64 | int(keys[k, 1]))}",
                )
            )
        position += int(count)
        # Each of the three most recent orders: a search and an add-to-cart before it, the purchase itself.
        for n, (ordered_at, channel, category) in enumerate(orders.get(str(customer_id), [])[:3]):
            base = f"demo-o-{customer_id}-{n}"
            shown = category.split(" ")[-1] if category else QUERIES[n % len(QUERIES)]
            events.append(
                Event(
                    customer_id=customer_id,
                    event_type="search",
                    occurred_at=ordered_at - timedelta(minutes=45),
                    channel=channel if channel in CHANNELS else "web",
                    properties={"query": shown},
                    idempotency_key=f"{base}-s",
                )
            )
            events.append(
                Event(
                    customer_id=customer_id,
                    event_type="add_to_cart",
                    occurred_at=ordered_at - timedelta(minutes=12),
                    channel=channel if channel in CHANNELS else "web",
                    properties={"category": category},
                    idempotency_key=f"{base}-c",
                )
            )
            events.append(
                Event(
                    customer_id=customer_id,
                    event_type="purchase",
                    occurred_at=ordered_at,
                    channel=channel or "store",
                    properties={"category": category},
                    idempotency_key=f"{base}-p",
                )
            )
    return events


def seed(ctx: SeedContext) -> None:
    customer_ids: list[Any] = ctx.shared.get("customer_ids", [])
    if not customer_ids:
        ctx.log("profiles: no customers seeded; skipping events")
        return
    now = timezone.now()
    written = 0
    for start in range(0, len(customer_ids), CUSTOMER_CHUNK):
        events = _events_for_chunk(ctx, customer_ids[start : start + CUSTOMER_CHUNK], now)
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
