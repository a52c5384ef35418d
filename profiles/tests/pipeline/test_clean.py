"""Cleaning: UTC timestamps; duplicates, bot bursts and impossible values dropped and counted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import pytest

from profiles.pipeline.clean import clean_events, clean_orders

AS_OF = "2025-01-01"
SHANGHAI = timezone(timedelta(hours=8))


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
                "properties": {"query": "tea"},
                "idempotency_key": "k1",
            },
            {
                "customer_id": "a",
                "event_type": "search",
                "occurred_at": "2024-05-02",
                "properties": {"query": "tea"},
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


def test_clean_events_drops_future_and_impossible_events_with_reasons_and_keeps_old_history() -> None:
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
    assert counts == {
        "missing_customer": 1,
        "invalid_timestamp": 1,
        "missing_type": 0,
        "invalid_properties": 0,
        "invalid_numbers": 2,
        "search_without_query": 0,
        "before_history_start": 0,
        "future": 1,
        "duplicates": 0,
        "bot_bursts": 0,
    }
    # 1999 is history like any other (no built-in cut-off year).
    assert cleaned["properties"].tolist() == [None, {"quantity": 2}]


def test_clean_events_drops_and_counts_every_row_it_cannot_use_instead_of_raising() -> None:
    good = {"customer_id": "a", "event_type": "search", "occurred_at": "2024-01-01"}
    rows = [
        {**good, "properties": {"query": "tea"}},
        {**good, "occurred_at": datetime(1500, 1, 1, tzinfo=UTC), "properties": {"query": "x"}},
        {**good, "occurred_at": "1200-05-01T00:00:00Z", "properties": {"query": "x"}},
        {**good, "occurred_at": "9999-12-31T00:00:00Z", "properties": {"query": "x"}},
        {**good, "occurred_at": None, "properties": {"query": "x"}},
        {**good, "customer_id": None, "properties": {"query": "x"}},
        {**good, "event_type": " ", "properties": {"query": "x"}},
        {**good, "properties": ["query", "tea"]},
        {**good, "properties": "tea"},
        {**good, "event_type": "add_to_cart", "properties": 5},
        {**good, "event_type": "add_to_cart", "properties": {"price": 10**400}},
        {**good, "event_type": "add_to_cart", "properties": {"amount": {"nested": 1}}},
        {**good, "properties": None},
        {**good, "properties": {}},
        {**good, "properties": {"query": "  "}},
        {**good, "properties": {"query": 42}},
        {**good, "properties": {"query": {"nested": "x"}}},
    ]
    cleaned, counts = clean_events(_events(rows), as_of=AS_OF)
    assert cleaned["properties"].tolist() == [{"query": "tea"}]
    assert {reason: n for reason, n in counts.items() if n} == {
        "invalid_timestamp": 4,
        "missing_customer": 1,
        "missing_type": 1,
        "invalid_properties": 3,
        "invalid_numbers": 2,
        "search_without_query": 5,
    }
    assert sum(counts.values()) == len(rows) - 1


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


def test_clean_orders_drops_negative_amounts_future_and_duplicate_lines_but_keeps_free_ones() -> None:
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
    assert counts == {
        "missing_customer": 0,
        "missing_order": 0,
        "invalid_timestamp": 0,
        "missing_exchange_rate": 0,
        "invalid_amount": 1,
        "invalid_quantity": 1,
        "before_history_start": 0,
        "future": 1,
        "duplicates": 1,
    }
    # A zero-value line (a free item, a 100% discount) is a purchase.
    assert cleaned[["order_id", "amount"]].values.tolist() == [["1", 10.5], ["2", 0.0], ["4", 4.0]]
    assert cleaned["category"].fillna("").tolist() == ["tea", "", "cups"]


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


def test_clean_orders_keep_history_before_2000_and_cut_only_at_the_configured_history_start() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "order_id": ["1", "2", "3", "4"],
            "ordered_at": ["1690-03-01", "1995-06-01", "1999-12-31T15:59:59Z", "1999-12-31T16:00:00Z"],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    cleaned, counts = clean_orders(orders, as_of=AS_OF)
    assert cleaned["order_id"].tolist() == ["1", "2", "3", "4"] and sum(counts.values()) == 0
    # history_start is a day in the server's time zone: 2000-01-01 starts at 16:00 UTC the day before.
    cleaned, counts = clean_orders(orders, as_of=AS_OF, history_start="2000-01-01", timezone="Asia/Shanghai")
    assert cleaned["order_id"].tolist() == ["4"]
    assert counts["before_history_start"] == 3


def test_clean_events_count_rows_before_the_history_start() -> None:
    events = _events(
        [
            {"customer_id": "a", "event_type": "app_open", "occurred_at": "1980-01-01"},
            {"customer_id": "a", "event_type": "app_open", "occurred_at": "2024-01-01"},
        ]
    )
    assert clean_events(events, as_of=AS_OF)[1]["before_history_start"] == 0
    cleaned, counts = clean_events(events, as_of=AS_OF, history_start=date(2000, 1, 1))
    assert counts["before_history_start"] == 1 and len(cleaned) == 1


def test_as_of_a_day_keeps_its_last_second_in_the_server_zone_and_drops_the_next_midnight() -> None:
    # 2024-06-30 in Shanghai runs from 2024-06-29 16:00 UTC to 2024-06-30 16:00 UTC (exclusive).
    last_second = datetime(2024, 6, 30, 23, 59, 59, tzinfo=SHANGHAI)
    next_midnight = datetime(2024, 7, 1, 0, 0, 0, tzinfo=SHANGHAI)
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "order_id": ["in", "out"],
            "ordered_at": [last_second, next_midnight],
            "amount": [1.0, 1.0],
        }
    )
    cleaned, counts = clean_orders(orders, as_of=date(2024, 6, 30), timezone="Asia/Shanghai")
    assert cleaned["order_id"].tolist() == ["in"] and counts["future"] == 1
    # An instant as_of is its own exclusive cutoff: a row stamped exactly at it is not included.
    cleaned, counts = clean_orders(orders, as_of=next_midnight)
    assert cleaned["order_id"].tolist() == ["in"] and counts["future"] == 1
    events = _events(
        [
            {"customer_id": "a", "event_type": "app_open", "occurred_at": last_second},
            {"customer_id": "a", "event_type": "page_view", "occurred_at": next_midnight},
        ]
    )
    cleaned, counts = clean_events(events, as_of=date(2024, 6, 30), timezone="Asia/Shanghai")
    assert cleaned["event_type"].tolist() == ["app_open"] and counts["future"] == 1


def test_clean_events_survive_properties_too_deep_to_serialise_when_checking_duplicates() -> None:
    deep: dict = {}
    level = deep
    for _ in range(5000):
        level["a"] = {}
        level = level["a"]
    same = {"customer_id": "a", "event_type": "page_view", "occurred_at": "2024-01-01"}
    cleaned, counts = clean_events(
        _events([{**same, "properties": deep}, {**same, "properties": {"x": 1}}]), as_of=AS_OF
    )
    assert len(cleaned) == 2 and counts["duplicates"] == 0


def test_clean_events_keep_the_same_idempotency_key_of_two_customers() -> None:
    """Keys are unique per sender: two systems may both send "order-1" for different customers."""
    events = _events(
        [
            {
                "customer_id": "a",
                "event_type": "app_open",
                "occurred_at": "2024-05-01",
                "idempotency_key": "k",
            },
            {
                "customer_id": "b",
                "event_type": "app_open",
                "occurred_at": "2024-05-02",
                "idempotency_key": "k",
            },
        ]
    )
    cleaned, counts = clean_events(events, as_of=AS_OF)
    assert counts["duplicates"] == 0
    assert sorted(cleaned["customer_id"]) == ["a", "b"]


def test_clean_orders_converts_into_the_base_currency_and_drops_lines_without_a_rate() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_id": ["1", "2", "3"],
            "ordered_at": ["2024-01-01", "2024-02-01", "2024-03-01"],
            "amount": [100.0, 130.0, 50.0],
            "quantity": [1, 1, 1],
            # CNY (1), EUR at 7.9, and a EUR order on a day without a rate (NaN)
            "exchange_rate": [1.0, 7.9, float("nan")],
        }
    )
    cleaned, counts = clean_orders(orders, as_of=AS_OF)
    assert counts["missing_exchange_rate"] == 1
    assert cleaned["amount"].tolist() == pytest.approx([100.0, 1027.0])
    # Cleaning a cleaned frame converts nothing twice.
    again, _counts = clean_orders(cleaned, as_of=AS_OF)
    assert again["amount"].tolist() == pytest.approx([100.0, 1027.0])


def test_clean_orders_without_a_rate_column_takes_amounts_as_base_currency() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a"],
            "order_id": ["1"],
            "ordered_at": ["2024-01-01"],
            "amount": [12.5],
            "quantity": [1],
        }
    )
    cleaned, counts = clean_orders(orders, as_of=AS_OF)
    assert counts["missing_exchange_rate"] == 0 and cleaned["amount"].tolist() == [12.5]
