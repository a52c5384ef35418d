"""Data cleaning: normalise timestamps to UTC, drop duplicates, bot bursts and impossible values.

Each function returns the cleaned frame and a dict of how many input rows were dropped per reason, so
a profile run can report exactly what it threw away. A row is counted under the first reason that hits
it, in the order the keys appear in the dict.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from .frames import as_utc_timestamp, conform, normalise_labels

MIN_YEAR = 2000
# Properties whose numeric value cannot be negative on any real event.
NON_NEGATIVE_PROPERTIES = ("amount", "quantity", "price")


def _invalid_numbers(properties: pd.Series) -> pd.Series:
    """True where a non-negative numeric property is present but negative, non-numeric or infinite."""
    invalid = pd.Series(False, index=properties.index)
    has_dict = properties.map(lambda p: isinstance(p, dict)).astype(bool)
    if not has_dict.any():
        return invalid
    subset = properties[has_dict].to_numpy()
    # One pass over the dicts for all keys; the checks themselves are vectorised.
    raw = pd.DataFrame([[p.get(key) for key in NON_NEGATIVE_PROPERTIES] for p in subset], dtype=object)
    present = raw.notna()
    numbers = raw.apply(pd.to_numeric, errors="coerce").astype("float64")
    bad = present & ~(numbers.ge(0) & np.isfinite(numbers.fillna(0.0)))
    invalid[has_dict] = bad.any(axis=1).to_numpy()
    return invalid


def _properties_key(properties: pd.Series) -> pd.Series:
    def dump(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

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
    min_year: int = MIN_YEAR,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Clean behaviour events; returns (events, dropped counts by reason).

    Reasons: `invalid_values` (no customer, type or parseable timestamp, or a negative/non-numeric
    amount, quantity or price property), `future` (after `as_of`), `too_old` (before `min_year`),
    `duplicates` (a repeated idempotency key, or the same customer, type, time and properties) and
    `bot_bursts` (every event of a customer inside a 60-second window holding more than
    `max_events_per_minute` events).
    """
    cutoff = as_utc_timestamp(as_of)
    data = conform(events, "events")
    data = data.assign(event_type=normalise_labels(data["event_type"]))
    counts: dict[str, int] = {}

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal data
        counts[reason] = int(mask.sum())
        if counts[reason]:
            data = data[~mask]

    missing = data["customer_id"].isna() | data["event_type"].isna() | data["occurred_at"].isna()
    drop(missing | _invalid_numbers(data["properties"]), "invalid_values")
    drop(data["occurred_at"] > cutoff, "future")
    drop(data["occurred_at"] < pd.Timestamp(year=min_year, month=1, day=1, tz="UTC"), "too_old")

    keyed = data["idempotency_key"].notna()
    repeated_key = keyed & data.duplicated(subset=["idempotency_key"], keep="first")
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
    orders: pd.DataFrame, *, as_of: object, min_year: int = MIN_YEAR
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Clean order lines; returns (orders, dropped counts by reason).

    Reasons: `invalid_values` (no customer, order id or timestamp; amount missing, zero, negative or
    infinite; quantity zero or negative), `future`, `too_old` and `duplicates` (a repeated
    (order_id, line_id); lines without a line id are never treated as duplicates).
    Categories are trimmed and lower-cased; blank ones become missing (the line still counts as spend).
    """
    cutoff = as_utc_timestamp(as_of)
    data = conform(orders, "orders")
    data = data.assign(category=normalise_labels(data["category"]))
    amount, quantity = data["amount"], data["quantity"]
    invalid = (
        data["customer_id"].isna()
        | data["order_id"].isna()
        | data["ordered_at"].isna()
        | ~(amount.gt(0) & np.isfinite(amount.fillna(0.0)))
        | quantity.le(0)
    )
    counts = {"invalid_values": int(invalid.sum())}
    data = data[~invalid]
    future = data["ordered_at"] > cutoff
    counts["future"] = int(future.sum())
    data = data[~future]
    too_old = data["ordered_at"] < pd.Timestamp(year=min_year, month=1, day=1, tz="UTC")
    counts["too_old"] = int(too_old.sum())
    data = data[~too_old]
    # Without line ids two identical lines may be two real items, so only re-sent lines are duplicates.
    has_line = data["line_id"].notna()
    duplicate = pd.Series(False, index=data.index)
    if has_line.any():
        duplicate[has_line] = data[has_line].duplicated(subset=["order_id", "line_id"], keep="first")
    counts["duplicates"] = int(duplicate.sum())
    data = data[~duplicate]
    return data.reset_index(drop=True), counts
