"""Order histories with planted churn structure for the churn tests (test_churn_*.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-01-01", tz="UTC")


def orders_frame(rows: list[tuple[str, pd.Timestamp, float]]) -> pd.DataFrame:
    """Order lines (one per order) from (customer_id, ordered_at, amount) rows."""
    return pd.DataFrame(
        {
            "customer_id": [customer for customer, _, _ in rows],
            "order_id": [str(i) for i in range(len(rows))],
            "ordered_at": pd.to_datetime([stamp for _, stamp, _ in rows], utc=True),
            "category": "tea",
            "amount": [amount for _, _, amount in rows],
        }
    )


def spend_driven_orders(n: int = 800, seed: int = 1) -> pd.DataFrame:
    """Everyone buys every 15-25 days from their first purchase (400-700 days before AS_OF); after each
    purchase the big spenders ("big-*", about 200 a purchase) pause for 100-200 days with probability
    0.4, the small spenders ("small-*", about 20) never pause.

    So a big spender who bought last week is a real churn risk (about 40% buy nothing in the next 90
    days), which the classifier sees (spend) and BG/NBD cannot: it knows only the purchase rhythm, and
    a recent regular looks alive to it.
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, pd.Timestamp, float]] = []
    for i in range(n):
        big = i % 2 == 0
        name = f"{'big' if big else 'small'}-{i}"
        day = float(rng.uniform(400, 700))
        while day > 0.5:
            amount = float(rng.normal(200.0 if big else 20.0, 5.0))
            rows.append((name, AS_OF - pd.Timedelta(days=day), amount))
            pause = big and rng.random() < 0.4
            day -= float(rng.uniform(100, 200)) if pause else float(rng.uniform(15, 25))
    return orders_frame(rows)


def frequent_buyers_orders(n: int = 300, seed: int = 2) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Regulars buying every 4-6 days (with the odd 25-day break) for two years, plus planted customers:
    "silent-*" regulars whose last purchase was 25 days ago (over three usual gaps), and "back-*"
    customers who bought twice long ago and again yesterday. Returns (orders, silent ids, back ids)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, pd.Timestamp, float]] = []
    silent = [f"silent-{i}" for i in range(12)]
    back = [f"back-{i}" for i in range(12)]
    regulars = [f"regular-{i}" for i in range(n)]
    for name in regulars + silent:
        # A quarter of the regulars stopped some time in the two years, so there is churn to learn.
        stop = 25.0 if name.startswith("silent") else (rng.uniform(0, 600) if rng.random() < 0.25 else 0.0)
        day = float(rng.uniform(700, 730))
        while day > stop + 0.5:
            rows.append((name, AS_OF - pd.Timedelta(days=day), float(rng.uniform(10, 40))))
            # One gap in ten is a 25-day break, after which they come back: a silence of that length is
            # ordinary for a regular, so the model rates it low; for the planted ones it is 3.4 usual gaps.
            day -= 25.0 if rng.random() < 0.1 else float(rng.uniform(4, 6))
        if name.startswith("silent"):
            rows.append((name, AS_OF - pd.Timedelta(days=25), 25.0))
    for name in back:
        for day in (700.0, 640.0, 1.0):
            rows.append((name, AS_OF - pd.Timedelta(days=day) - pd.Timedelta(hours=12), 30.0))
    return orders_frame(rows), silent, back
