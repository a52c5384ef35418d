"""The profiles benchmark's data: customers with ~2 orders (1-2 lines each) and 10 events each.

PostgreSQL only (the benchmark runs there): generated with numpy per chunk and loaded with COPY
(``crm_site.copy_load``), secondary indexes and foreign keys rebuilt once at the end. The ORM path did
~4,000 rows/s here, which made a 1,000,000-customer data set (~15 M rows) an hour-long job.
Seeding tops up: a 1M run reuses the customers of a smaller run before it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

CHUNK = 50_000
EVENTS_PER_CUSTOMER = 10
EVENT_KINDS = np.array(["page_view", "app_open", "search", "add_to_cart", "coupon_use"])
SEARCH_TERMS = np.array(["手机", "laptop", "耳机", "coffee", "跑鞋", "camera"])


def _random_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random version-4-shaped UUIDs as a (n, 16) uint8 array."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


def _stamps(now: np.datetime64, days_ago: np.ndarray) -> np.ndarray:
    return now - (days_ago * 86_400_000_000).astype("timedelta64[us]")


def _chunk(rng: np.random.Generator, start: int, n: int, now: np.datetime64, ctx: dict[str, Any]) -> dict:
    """Every table's columns (COPY text) for customers start .. start + n."""
    from crm_site.copy_load import hex_ids, timestamps

    customer_ids = hex_ids(_random_ids(rng, n))
    created = timestamps(_stamps(now, rng.uniform(30, 900, size=n)))
    serials = np.arange(start, start + n)
    customers = {
        "id": customer_ids,
        "created_at": created,
        "updated_at": created,
        "name": [f"客户 C{serial}" for serial in serials],
        "owner_id": [ctx["owner"]] * n,
        "gender": np.where(serials % 2 == 0, "female", "male").tolist(),
    }
    per_customer = rng.poisson(2.0, size=n)
    order_customer = np.repeat(np.arange(n), per_customer)
    n_orders = len(order_customer)
    order_ids = hex_ids(_random_ids(rng, n_orders))
    ordered = timestamps(_stamps(now, rng.uniform(1, 720, size=n_orders)))
    orders = {
        "id": order_ids,
        "created_at": ordered,
        "updated_at": ordered,
        "number": [f"B-{order_id[:16]}" for order_id in order_ids],
        "customer_id": [customer_ids[i] for i in order_customer],
        "owner_id": [ctx["owner"]] * n_orders,
        "status": ["completed"] * n_orders,
        "ordered_at": ordered,
    }
    lines_per_order = rng.integers(1, 3, size=n_orders)
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    n_lines = len(line_order)
    # 1-2 distinct categories per order: the second line takes the next category round the list.
    first = rng.integers(0, len(ctx["categories"]), size=n_orders)
    second_line = np.zeros(n_lines, dtype=bool)
    second_line[1:] = line_order[1:] == line_order[:-1]
    category = (first[line_order] + second_line) % len(ctx["categories"])
    amounts = [f"{value:.2f}" for value in np.round(rng.gamma(2.0, 80.0, size=n_lines) + 1, 2)]
    lines = {
        "id": hex_ids(_random_ids(rng, n_lines)),
        "created_at": [ordered[i] for i in line_order],
        "updated_at": [ordered[i] for i in line_order],
        "order_id": [order_ids[i] for i in line_order],
        "category_id": [ctx["categories"][i] for i in category],
        "sku": ["B"] * n_lines,
        "quantity": ["1"] * n_lines,
        "unit_price": amounts,
        "line_total": amounts,
    }
    n_events = n * EVENTS_PER_CUSTOMER
    event_customer = np.repeat(np.arange(n), EVENTS_PER_CUSTOMER)
    kinds = rng.choice(EVENT_KINDS, size=n_events)
    terms = rng.choice(SEARCH_TERMS, size=n_events)
    occurred = timestamps(_stamps(now, rng.uniform(0, 365, size=n_events)))
    properties = np.where(kinds == "search", np.char.add(np.char.add('{"query": "', terms), '"}'), "{}")
    events = {
        "id": hex_ids(_random_ids(rng, n_events)),
        "created_at": occurred,
        "updated_at": occurred,
        "customer_id": [customer_ids[i] for i in event_customer],
        "event_type": kinds.tolist(),
        "properties": properties.tolist(),
        "occurred_at": occurred,
        "channel": np.where(np.arange(n_events) % 2 == 1, "app", "web").tolist(),
        "idempotency_key": [
            f"b-{customer_ids[c]}-{k % EVENTS_PER_CUSTOMER}" for k, c in enumerate(event_customer)
        ],
        "received_at": occurred,
    }
    return {"customers": (customers, n), "orders": (orders, n_orders), "lines": (lines, n_lines),
            "events": (events, n_events)}  # fmt: skip


def seed(size: int) -> dict:
    """Top the benchmark database up to ``size`` customers with their orders and events."""
    from django.contrib.auth import get_user_model

    from crm_site.copy_load import copy_rows, indexes_deferred, no_commit_flush
    from crm_site.db import atomic
    from customers.models import Customer
    from orders.models import OrderLine, ProductCategory, SalesOrder
    from profiles.models import Event

    started = time.perf_counter()
    existing = Customer.objects.count()
    if existing >= size:
        return {"seconds": 0.0, "reused": True}
    owner, _created = get_user_model().objects.get_or_create(username="bench-owner")
    categories = [
        ProductCategory.objects.get_or_create(code=f"bench-{i}", defaults={"name": f"品类 Category {i}"})[0]
        for i in range(12)
    ]
    ctx = {"owner": str(owner.pk), "categories": [category.pk.hex for category in categories]}
    rng = np.random.default_rng(11 + existing)
    now = np.datetime64(int(time.time() * 1_000_000), "us")
    models = {"customers": Customer, "orders": SalesOrder, "lines": OrderLine, "events": Event}
    rows = dict.fromkeys(models, 0)
    with indexes_deferred(models.values(), enabled=size - existing >= 100_000):
        for start in range(existing, size, CHUNK):
            chunk = _chunk(rng, start, min(CHUNK, size - start), now, ctx)
            with atomic():
                no_commit_flush()
                for name, model in models.items():
                    columns, count = chunk[name]
                    copy_rows(model, columns, count)
                    rows[name] += count
    return {"seconds": time.perf_counter() - started, "reused": False, "rows": rows}
