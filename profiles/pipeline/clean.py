"""Data cleaning: normalise timestamps to UTC, drop duplicates, bot bursts and rows the pipeline cannot use.

Each function returns the cleaned frame and a dict of how many input rows were dropped per reason, so
a profile run can report exactly what it threw away. A row is counted under the first reason that hits
it, in the order the keys appear in the dict. Nothing here raises on a bad value: one bad stored row is
dropped and counted, it never fails everyone's run.

`as_of` is the exclusive cutoff (see `frames.as_of_cutoff`): rows stamped at or after it are `future`.
History is kept as far back as datetime64[ns] goes (1677); `history_start` (a date, in `timezone`, or an
instant) optionally leaves older rows out, counted as `before_history_start`.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from .frames import as_of_cutoff, conform, normalise_labels

# Properties whose numeric value cannot be negative on any real event.
NON_NEGATIVE_PROPERTIES = ("amount", "quantity", "price")


def _invalid_numbers(properties: pd.Series) -> pd.Series:
    """True where a non-negative numeric property is present but negative, non-numeric or infinite."""
    invalid = pd.Series(False, index=properties.index)
    has_dict = _is_dict(properties)
    if not has_dict.any():
        return invalid
    subset = properties[has_dict].to_numpy()
    # One pass over the dicts for all keys; the checks themselves are vectorised.
    raw = pd.DataFrame([[p.get(key) for key in NON_NEGATIVE_PROPERTIES] for p in subset], dtype=object)
    present = raw.notna()
    numbers = raw.apply(_numbers).astype("float64")
    bad = present & ~(numbers.ge(0) & np.isfinite(numbers.fillna(0.0)))
    invalid[has_dict] = bad.any(axis=1).to_numpy()
    return invalid


def _numbers(values: pd.Series) -> pd.Series:
    """Floats where a value is a number or numeric text, NaN elsewhere (nested JSON, text)."""
    try:
        return pd.to_numeric(values, errors="coerce")
    except (OverflowError, TypeError, ValueError):
        # An integer too large for a float (JSON allows any size): element by element, such values NaN.
        def number(value: Any) -> float:
            try:
                return float(value) if isinstance(value, int | float | str) else float("nan")
            except (ValueError, OverflowError):
                return float("nan")

        return values.map(number)


def _is_dict(properties: pd.Series) -> pd.Series:
    """True where properties are a dict; only present values are looked at (most events carry none)."""
    values = properties.to_numpy(dtype=object)
    present = ~pd.isna(values)
    result = np.zeros(len(values), dtype=bool)
    result[present] = [isinstance(p, dict) for p in values[present]]
    return pd.Series(result, index=properties.index)


def _unusable_properties(properties: pd.Series) -> pd.Series:
    """True where properties are present but not a JSON object (a list, text, number)."""
    return properties.notna() & ~_is_dict(properties)


def _search_without_query(event_types: pd.Series, properties: pd.Series) -> pd.Series:
    """True for `search` events whose properties hold no non-blank text query."""
    searches = event_types.eq("search").fillna(False).astype(bool)
    missing = pd.Series(False, index=properties.index)
    if searches.any():
        missing[searches] = [
            not (isinstance(p, dict) and isinstance(p.get("query"), str) and p["query"].strip())
            for p in properties[searches].to_numpy()
        ]
    return missing


def _before(stamps: pd.Series, first: pd.Timestamp | None) -> pd.Series:
    return stamps.lt(first) if first is not None else pd.Series(False, index=stamps.index)


def history_start_instant(history_start: object | None, *, timezone: str = "UTC") -> pd.Timestamp | None:
    """The first instant kept (UTC), or None to keep everything: a date (or ISO date text) means the
    start of that day in `timezone`, anything else is an instant."""
    if history_start is None or history_start == "":
        return None
    if isinstance(history_start, str) and len(history_start) == 10:
        history_start = date.fromisoformat(history_start)
    if isinstance(history_start, date) and not isinstance(history_start, datetime):
        # The start of day D is the exclusive cutoff of day D-1.
        return as_of_cutoff(history_start - timedelta(days=1), timezone=timezone)
    return as_of_cutoff(history_start)


def _properties_key(properties: pd.Series) -> pd.Series:
    def dump(value: Any) -> str:
        try:
            return json.dumps(value, sort_keys=True, default=str)
        except (RecursionError, ValueError):
            # Too deep (or circular) to serialise: never equal to another event's properties.
            return f"unserialisable:{id(value)}"

    return properties.map(dump)


def _burst_mask(customer_ids: pd.Series, stamps: pd.Series, max_events_per_minute: int) -> pd.Series:
    """True for every event inside a sliding 60-second window holding more than the allowed events."""
    if stamps.empty:
        return pd.Series(False, index=stamps.index)
    codes, _ = pd.factorize(customer_ids, sort=False)
    seconds = (stamps - stamps.min()).dt.total_seconds().to_numpy()
    # One sortable int64 key per event: customers laid end to end with a gap wider than the window.
    stride = int(np.ceil(seconds.max())) + 120
    keys = codes.astype(np.int64) * stride + seconds.astype(np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    window_start = np.searchsorted(sorted_keys, sorted_keys - 59, side="left")
    position = np.arange(len(sorted_keys))
    too_many = (position - window_start + 1) > max_events_per_minute
    # Mark the whole window [window_start, position] of each overfull window with a difference array.
    marks = np.zeros(len(sorted_keys) + 1, dtype=np.int64)
    np.add.at(marks, window_start[too_many], 1)
    np.add.at(marks, position[too_many] + 1, -1)
    in_burst_sorted = np.cumsum(marks[:-1]) > 0
    in_burst = np.empty_like(in_burst_sorted)
    in_burst[order] = in_burst_sorted
    return pd.Series(in_burst, index=stamps.index)


def clean_events(
    events: pd.DataFrame,
    *,
    as_of: object,
    max_events_per_minute: int = 30,
    history_start: object | None = None,
    timezone: str = "UTC",
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Clean behaviour events; returns (events, dropped counts by reason).

    Reasons: `missing_customer`, `invalid_timestamp` (missing, unparseable or outside what
    datetime64[ns] holds), `missing_type`, `invalid_properties` (not a JSON object), `invalid_numbers`
    (a negative/non-numeric amount, quantity or price property), `search_without_query`,
    `before_history_start`, `future` (at or after the `as_of` cutoff), `duplicates` (a repeated
    idempotency key, or the same customer, type, time and properties) and `bot_bursts` (every event of
    a customer inside a 60-second window holding more than `max_events_per_minute` events).
    """
    cutoff = as_of_cutoff(as_of, timezone=timezone)
    first = history_start_instant(history_start, timezone=timezone)
    data = conform(events, "events")
    data = data.assign(event_type=normalise_labels(data["event_type"]))
    counts: dict[str, int] = {}

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal data
        counts[reason] = int(mask.sum())
        if counts[reason]:
            data = data[~mask]

    drop(data["customer_id"].isna(), "missing_customer")
    drop(data["occurred_at"].isna(), "invalid_timestamp")
    drop(data["event_type"].isna(), "missing_type")
    drop(_unusable_properties(data["properties"]), "invalid_properties")
    drop(_invalid_numbers(data["properties"]), "invalid_numbers")
    drop(_search_without_query(data["event_type"], data["properties"]), "search_without_query")
    drop(_before(data["occurred_at"], first), "before_history_start")
    drop(data["occurred_at"].ge(cutoff), "future")

    keyed = data["idempotency_key"].notna()
    # Keys are unique per sender, not across senders: a repeat counts only for the same customer.
    repeated_key = keyed & data.duplicated(subset=["customer_id", "idempotency_key"], keep="first")
    same_moment = ["customer_id", "event_type", "occurred_at"]
    # Serialising properties is the slow part, so only rows that already collide on the cheap columns pay it.
    candidates = ~repeated_key & data.duplicated(subset=same_moment, keep=False)
    repeated_content = pd.Series(False, index=data.index)
    if candidates.any():
        subset = data.loc[candidates, same_moment].assign(
            props=_properties_key(data.loc[candidates, "properties"])
        )
        repeated_content.loc[subset.index] = subset.duplicated(keep="first").to_numpy()
    drop(repeated_key | repeated_content, "duplicates")

    drop(_burst_mask(data["customer_id"], data["occurred_at"], max_events_per_minute), "bot_bursts")
    return data.reset_index(drop=True), counts


def clean_orders(
    orders: pd.DataFrame,
    *,
    as_of: object,
    history_start: object | None = None,
    timezone: str = "UTC",
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Clean order lines; returns (orders, dropped counts by reason).

    Reasons: `missing_customer`, `missing_order` (no order id), `invalid_timestamp` (missing,
    unparseable or outside datetime64[ns]), `missing_exchange_rate` (an order in a currency with no rate
    in force on its day: never taken at 1), `invalid_amount` (missing, negative or infinite; zero is a
    real purchase: a free item or a 100% discount), `invalid_quantity` (zero or negative),
    `before_history_start`, `future` (at or after the `as_of` cutoff) and `duplicates` (a repeated
    (order_id, line_id); lines without a line id are never treated as duplicates).
    Categories are trimmed and lower-cased; blank ones become missing (the line still counts as spend).
    Amounts come out in the base currency (`amount` x `exchange_rate`, the rate then 1).
    """
    cutoff = as_of_cutoff(as_of, timezone=timezone)
    first = history_start_instant(history_start, timezone=timezone)
    data = conform(orders, "orders")
    data = data.assign(category=normalise_labels(data["category"]))
    counts: dict[str, int] = {}

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal data
        counts[reason] = int(mask.sum())
        if counts[reason]:
            data = data[~mask]

    drop(data["customer_id"].isna(), "missing_customer")
    drop(data["order_id"].isna(), "missing_order")
    drop(data["ordered_at"].isna(), "invalid_timestamp")
    rate = data["exchange_rate"]
    drop(~(rate.gt(0) & np.isfinite(rate.fillna(0.0))), "missing_exchange_rate")
    if not data["exchange_rate"].eq(1.0).all():
        # Into the base currency, once: the rate becomes 1 so cleaning a cleaned frame changes nothing.
        data = data.assign(amount=data["amount"] * data["exchange_rate"], exchange_rate=1.0)
    amount = data["amount"]
    drop(~(amount.ge(0) & np.isfinite(amount.fillna(0.0))), "invalid_amount")
    drop(data["quantity"].le(0), "invalid_quantity")
    drop(_before(data["ordered_at"], first), "before_history_start")
    drop(data["ordered_at"].ge(cutoff), "future")
    # Without line ids two identical lines may be two real items, so only re-sent lines are duplicates.
    has_line = data["line_id"].notna()
    duplicate = pd.Series(False, index=data.index)
    if has_line.any():
        duplicate[has_line] = data[has_line].duplicated(subset=["order_id", "line_id"], keep="first")
    drop(duplicate, "duplicates")
    return data.reset_index(drop=True), counts
