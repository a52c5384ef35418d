"""Column conventions shared by every pipeline step, and helpers that coerce input frames to them.

Each input has required columns (a frame without them is a programming error) and optional ones
(added as missing values, so upstream systems that do not track e.g. a channel still work).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

TIMESTAMP_DTYPE = "datetime64[ns, UTC]"
NS_PER_DAY = 86_400 * 10**9

CUSTOMER_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "birth_date": "datetime",
    "gender": "str",
    "province": "str",
    "city": "str",
    "created_at": "datetime",
}
ORDER_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "order_id": "str",
    "line_id": "str",
    "ordered_at": "datetime",
    "category": "str",
    "amount": "float",
    "quantity": "float",
    "channel": "str",
}
EVENT_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "event_type": "str",
    "occurred_at": "datetime",
    "properties": "object",
    "channel": "str",
    "idempotency_key": "str",
}
INTERACTION_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "kind": "str",
    "occurred_at": "datetime",
    "channel": "str",
}
CAMPAIGN_RESPONSE_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "campaign_id": "str",
    "sent_at": "datetime",
    "responded": "bool",
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "orders": ("customer_id", "order_id", "ordered_at", "amount"),
    "events": ("customer_id", "event_type", "occurred_at"),
    "interactions": ("customer_id", "occurred_at"),
    "campaign_responses": ("customer_id", "responded"),
}
SCHEMAS: dict[str, dict[str, str]] = {
    "customers": CUSTOMER_COLUMNS,
    "orders": ORDER_COLUMNS,
    "events": EVENT_COLUMNS,
    "interactions": INTERACTION_COLUMNS,
    "campaign_responses": CAMPAIGN_RESPONSE_COLUMNS,
}


def to_utc(values: Any) -> pd.Series:
    """Parse timestamps to UTC; naive values are taken to be UTC already, unparseable ones become NaT."""
    series = pd.Series(values)
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
        parsed = pd.to_datetime(series, utc=True)
    else:
        # ISO 8601 is the fast path; "mixed" (slow, per element) only for what it could not read.
        parsed = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
        retry = parsed.isna() & series.notna()
        if retry.any():
            parsed[retry] = pd.to_datetime(series[retry], utc=True, errors="coerce", format="mixed")
    return parsed.astype(TIMESTAMP_DTYPE)


def as_utc_timestamp(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.as_unit("ns")


def _coerce(series: pd.Series, kind: str) -> pd.Series:
    if kind == "datetime":
        return to_utc(series)
    if kind == "float":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if kind == "bool":
        return series.fillna(False).astype(bool)
    if kind == "str":
        # Ids may arrive as UUID objects or ints; str() them but keep missing values missing.
        return series.astype("str").where(series.notna())
    return series


def conform(frame: pd.DataFrame | None, name: str) -> pd.DataFrame:
    """Return a copy of `frame` with the columns and dtypes of schema `name` (missing optionals filled)."""
    schema = SCHEMAS[name]
    # A reader with nothing to read hands over a bare DataFrame(); that is an empty input, not an error.
    if frame is None or (len(frame) == 0 and len(frame.columns) == 0):
        frame = pd.DataFrame(columns=list(REQUIRED[name]))
    missing = [column for column in REQUIRED[name] if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks required columns: {', '.join(missing)}")
    frame = frame.reset_index(drop=True)
    columns: dict[str, pd.Series] = {}
    for column, kind in schema.items():
        source = (
            frame[column] if column in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        )
        columns[column] = _coerce(source, kind)
    return pd.DataFrame(columns, index=frame.index)


def empty(name: str) -> pd.DataFrame:
    return conform(None, name)


def days_between(later: pd.Timestamp | pd.Series, earlier: pd.Series | pd.Timestamp) -> pd.Series:
    """Fractional days, NaN where either side is missing."""
    delta = later - earlier
    return pd.Series(delta).dt.total_seconds() / 86_400.0 if isinstance(delta, pd.Series) else delta


def mode_per_customer(frame: pd.DataFrame, column: str, weight: str | None = None) -> pd.Series:
    """Most frequent (or heaviest) value of `column` per customer; ties go to the smallest value."""
    data = frame[["customer_id", column] + ([weight] if weight else [])].dropna(
        subset=["customer_id", column]
    )
    if data.empty:
        return pd.Series(dtype=frame[column].dtype, name=column).rename_axis("customer_id")
    grouped = data.groupby(["customer_id", column], observed=True, sort=False)
    score = grouped[weight].sum() if weight else grouped.size()
    ranked = score.rename("score").reset_index()
    ranked = ranked.sort_values(
        ["customer_id", "score", column], ascending=[True, False, True], kind="stable"
    )
    best = ranked.drop_duplicates("customer_id")
    return best.set_index("customer_id")[column]


def union_ids(*series: pd.Series) -> pd.Index:
    """Sorted distinct customer ids over several id columns, missing ids dropped."""
    ids = [s.dropna().unique() for s in series if len(s)]
    if not ids:
        return pd.Index([], dtype="str", name="customer_id")
    return pd.Index(np.unique(np.concatenate(ids).astype(str)), name="customer_id")


def extract_property(properties: pd.Series, key: str) -> pd.Series:
    """Value of `key` in each properties dict (None where the row has no dict or no such key)."""
    values = [p.get(key) if isinstance(p, Mapping) else None for p in properties.to_numpy()]
    return pd.Series(values, index=properties.index, dtype=object)
