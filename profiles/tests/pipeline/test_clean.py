"""Cleaning: UTC timestamps; duplicates, bot bursts and impossible values dropped and counted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd

from profiles.pipeline.clean import clean_events, clean_orders

AS_OF = "2025-01-01"


def _events(rows: list[dict]) -> pd.DataFrame:
    defaults = {"properties": None, "channel": "web", "idempotency_key": None}
    return pd.DataFrame([{**defaults, **row} for row in rows])


def test_clean_events_converts_aware_and_naive_timestamps_to_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    events = _events(
        [
            {
                "customer_id": "a",
                "event_type": "app_open",
                "occurred_at": datetime(2024, 5, 1, 10, tzinfo=shanghai),
            },
            {"customer_id": "a", "event_type": "app_open", "occurred_at": "2024-05-01 03:00"},
        ]
    )
    cleaned, _ = clean_events(events, as_of=AS_OF)
    assert str(cleaned["occurred_at"].dtype) == "datetime64[ns, UTC]"
    assert list(cleaned["occurred_at"]) == [
        pd.Timestamp("2024-05-01 02:00", tz="UTC"),
        pd.Timestamp("2024-05-01 03:00", tz="UTC"),
    ]


def test_clean_events_drops_repeated_idempotency_keys_and_identical_events() -> None:
    events = _events(
        [
            {
                "customer_id": "a",
                "event_type": "search",
                "occurred_at": "2024-05-01",
                "idempotency_key": "k1",
            },
            {
                "customer_id": "a",
                "event_type": "search",
                "occurred_at": "2024-05-02",
                "idempotency_key": "k1",
            },
            {
                "customer_id": "b",
                "event_type": "Search",
                "occurred_at": "2024-05-01",
                "properties": {"query": "x"},
            },
            {
                "customer_id": "b",
                "event_type": "search",
                "occurred_at": "2024-05-01",
                "properties": {"query": "x"},
            },
            # Same moment, different properties: a different event.
            {
                "customer_id": "b",
                "event_type": "search",
                "occurred_at": "2024-05-01",
                "properties": {"query": "y"},
            },
        ]
    )
    cleaned, counts = clean_events(events, as_of=AS_OF)
    assert counts["duplicates"] == 2
    assert len(cleaned) == 3
    assert cleaned["occurred_at"].iloc[0] == pd.Timestamp("2024-05-01", tz="UTC")


def test_clean_events_drops_future_too_old_and_impossible_events_with_reasons() -> None:
    events = _events(
        [
            {"customer_id": "a", "event_type": "page_view", "occurred_at": "2025-06-01"},
            {"customer_id": "a", "event_type": "page_view", "occurred_at": "1999-12-31"},
            {
                "customer_id": "a",
                "event_type": "coupon_use",
                "occurred_at": "2024-01-01",
                "properties": {"amount": -5},
            },
            {
                "customer_id": "a",
                "event_type": "add_to_cart",
                "occurred_at": "2024-01-01",
                "properties": {"quantity": "x"},
            },
            {"customer_id": None, "event_type": "page_view", "occurred_at": "2024-01-01"},
            {"customer_id": "a", "event_type": "page_view", "occurred_at": "not a date"},
            {
                "customer_id": "a",
                "event_type": "add_to_cart",
                "occurred_at": "2024-01-01",
                "properties": {"quantity": 2},
            },
        ]
    )
    cleaned, counts = clean_events(events, as_of=AS_OF)
    assert counts == {"invalid_values": 4, "future": 1, "too_old": 1, "duplicates": 0, "bot_bursts": 0}
    assert cleaned["properties"].tolist() == [{"quantity": 2}]


def test_clean_events_drops_every_event_of_a_burst_above_the_per_minute_limit() -> None:
    start = pd.Timestamp("2024-03-01 12:00:30", tz="UTC")
    # 6 events within 50 seconds straddling a minute boundary, then a normal pace.
    rows = [
        {"customer_id": "bot", "event_type": "page_view", "occurred_at": start + pd.Timedelta(seconds=10 * i)}
        for i in range(6)
    ]
    rows += [
        {
            "customer_id": "bot",
            "event_type": "page_view",
            "occurred_at": start + pd.Timedelta(minutes=10 + 2 * i),
        }
        for i in range(5)
    ]
    # Another customer active in the same seconds is not affected.
    rows += [
        {"customer_id": "human", "event_type": "page_view", "occurred_at": start + pd.Timedelta(seconds=i)}
        for i in range(5)
    ]
    cleaned, counts = clean_events(_events(rows), as_of=AS_OF, max_events_per_minute=5)
    assert counts["bot_bursts"] == 6
    assert cleaned["customer_id"].value_counts().to_dict() == {"bot": 5, "human": 5}


def test_clean_events_of_an_empty_frame_returns_the_columns_and_zero_counts() -> None:
    empty = pd.DataFrame(columns=["customer_id", "event_type", "occurred_at"])
    cleaned, counts = clean_events(empty, as_of=AS_OF)
    assert cleaned.empty
    assert {"customer_id", "event_type", "occurred_at", "properties", "channel"} <= set(cleaned.columns)
    assert set(counts.values()) == {0}


def test_clean_orders_drops_non_positive_amounts_future_and_duplicate_lines() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
            "order_id": ["1", "1", "2", "3", "4", "4", "5"],
            "line_id": ["l1", "l1", "l2", "l3", "l4", "l5", "l6"],
            "ordered_at": [
                "2024-01-01",
                "2024-01-01",
                "2024-02-01",
                "2026-01-01",
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
            ],
            "category": [" Tea", "tea", "", "tea", "cups", "cups", "tea"],
            "amount": [Decimal("10.50"), Decimal("10.50"), 0, 5.0, -3.0, 4.0, 7.0],
            "quantity": [1, 1, 1, 1, 1, 1, 0],
        }
    )
    cleaned, counts = clean_orders(orders, as_of=AS_OF)
    assert counts == {"invalid_values": 3, "future": 1, "too_old": 0, "duplicates": 1}
    assert cleaned[["order_id", "category", "amount"]].values.tolist() == [
        ["1", "tea", 10.5],
        ["4", "cups", 4.0],
    ]


def test_clean_orders_keeps_identical_lines_that_are_not_a_resent_line_id() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a"],
            "order_id": ["1", "1", "2", "2"],
            "line_id": ["l1", "l2", None, None],
            "ordered_at": ["2024-01-01"] * 4,
            "category": ["", "", "tea", "tea"],
            "amount": [3.0, 3.0, 4.0, 4.0],
        }
    )
    cleaned, counts = clean_orders(orders, as_of=AS_OF)
    assert len(cleaned) == 4 and counts["duplicates"] == 0
    assert cleaned["category"].isna().tolist() == [True, True, False, False]
