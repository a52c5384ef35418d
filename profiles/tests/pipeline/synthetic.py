"""Synthetic CRM data with known structure, for pipeline tests and the benchmark script.

Customers follow a BG/NBD-like story: each has a purchase rate and a dropout time; active customers
buy more often, use the app and respond to campaigns. Baskets mix categories from a few themes, so
rules such as tea -> teapot exist.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")
THEMES = (("tea", "teapot", "cups"), ("coffee", "grinder", "cups"), ("snacks", "tea"), ("books",))
SEARCH_TERMS = ("green tea", "oolong", "espresso", "teapot", "gift box")
EVENT_TYPES = ("page_view", "app_open", "search", "add_to_cart", "coupon_use")


def customer_ids(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 2**63 - 1, size=(n, 2), dtype=np.int64)
    return np.array([f"{a:016x}-{b:016x}" for a, b in raw], dtype=object)


def generate(n_customers: int, *, events_per_customer: float = 10.0, days: int = 730, seed: int = 0) -> dict:
    """Frames customers, orders, events, interactions, campaign_responses for `n_customers` customers."""
    rng = np.random.default_rng(seed)
    ids = customer_ids(n_customers, seed)
    start = AS_OF - pd.Timedelta(days=days)
    birth = rng.uniform(0, days * 0.8, n_customers)
    lifetime = rng.exponential(days * 0.6, n_customers)
    death = np.minimum(birth + lifetime, days)
    rate = rng.gamma(0.8, 1 / 40, n_customers)  # purchases per day while active
    n_orders = 1 + rng.poisson(rate * (death - birth))
    owner = np.repeat(np.arange(n_customers), n_orders)
    offset = birth[owner] + rng.uniform(0, 1, len(owner)) * (death - birth)[owner]
    first = np.r_[0, np.cumsum(n_orders)[:-1]]
    offset[first] = birth
    order_ids = np.arange(len(owner))
    theme = rng.integers(0, len(THEMES), len(owner))
    lines_owner, lines_order, lines_category = [], [], []
    for t, items in enumerate(THEMES):
        chosen = np.flatnonzero(theme == t)
        for position, item in enumerate(items):
            take = chosen if position == 0 else chosen[rng.random(len(chosen)) < 0.6]
            lines_owner.append(owner[take])
            lines_order.append(order_ids[take])
            lines_category.append(np.full(len(take), item, dtype=object))
    line_owner = np.concatenate(lines_owner)
    line_order = np.concatenate(lines_order)
    spend_scale = rng.gamma(4.0, 10.0, n_customers)
    orders = pd.DataFrame(
        {
            "customer_id": ids[line_owner],
            "order_id": line_order.astype(str),
            "ordered_at": start + pd.to_timedelta(offset[line_order], unit="D"),
            "category": np.concatenate(lines_category),
            "amount": np.round(rng.gamma(3.0, 1.0, len(line_owner)) * spend_scale[line_owner] / 3.0 + 1.0, 2),
            "quantity": rng.integers(1, 4, len(line_owner)).astype(float),
            "channel": rng.choice(["web", "app", "store"], len(line_owner)),
        }
    )

    n_events = rng.poisson(events_per_customer, n_customers)
    event_owner = np.repeat(np.arange(n_customers), n_events)
    event_offset = birth[event_owner] + rng.uniform(0, 1, len(event_owner)) * (days - birth[event_owner])
    kinds = rng.choice(EVENT_TYPES, len(event_owner), p=[0.45, 0.25, 0.15, 0.1, 0.05])
    properties = np.full(len(event_owner), None, dtype=object)
    search = np.flatnonzero(kinds == "search")
    terms = rng.choice(SEARCH_TERMS, len(search))
    properties[search] = [{"query": term} for term in terms]
    events = pd.DataFrame(
        {
            "customer_id": ids[event_owner],
            "event_type": kinds,
            "occurred_at": start + pd.to_timedelta(event_offset, unit="D"),
            "properties": properties,
            "channel": np.where(kinds == "app_open", "app", "web"),
            "idempotency_key": [f"e{i}" for i in range(len(event_owner))],
        }
    )

    contacted = rng.random(n_customers) < 0.5
    interactions = pd.DataFrame(
        {
            "customer_id": ids[contacted],
            "kind": rng.choice(["call", "email", "visit"], contacted.sum()),
            "occurred_at": start + pd.to_timedelta(rng.uniform(0, days, contacted.sum()), unit="D"),
            "channel": rng.choice(["phone", "email", "store"], contacted.sum()),
        }
    )
    targeted = np.repeat(np.arange(n_customers), 2)
    responded = rng.random(len(targeted)) < np.clip(rate[targeted] * 10, 0.02, 0.9)
    campaign_responses = pd.DataFrame(
        {
            "customer_id": ids[targeted],
            "campaign_id": np.tile(["c1", "c2"], n_customers),
            "sent_at": AS_OF - pd.Timedelta(days=30),
            "responded": responded,
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "birth_date": pd.Timestamp("1960-01-01")
            + pd.to_timedelta(rng.uniform(0, 40 * 365, n_customers), "D"),
            "gender": rng.choice(["F", "M", ""], n_customers),
            "province": rng.choice(["Zhejiang", "Guangdong", "Sichuan"], n_customers),
            "city": rng.choice(["Hangzhou", "Shenzhen", "Chengdu"], n_customers),
            "created_at": start + pd.to_timedelta(birth, unit="D"),
        }
    )
    return {
        "customers": customers,
        "orders": orders,
        "events": events,
        "interactions": interactions,
        "campaign_responses": campaign_responses,
    }
