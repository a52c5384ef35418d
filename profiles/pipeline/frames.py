"""Column conventions shared by every pipeline step, and helpers that coerce input frames to them.

Each input has required columns (a frame without them is a programming error) and optional ones
(added as missing values, so upstream systems that do not track e.g. a channel still work).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

TIMESTAMP_DTYPE = "datetime64[ns, UTC]"
_DENSE_MODE_WIDTH = 64
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
    # Base-currency units one unit of the line's currency is worth on its order's day; missing (NaN)
    # when no rate was in force (cleaning drops and counts the line). A frame without the column holds
    # base-currency amounts (see OPTIONAL_DEFAULTS).
    "exchange_rate": "float",
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
    # The sessions log's channel (call, email, chat, visit, ...); `channel` is a sales channel (web, app).
    "kind": "str",
    "occurred_at": "datetime",
    "channel": "str",
    "direction": "str",  # inbound, outbound, internal
    "outcome": "str",  # reached, no_answer, complaint, ...
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
# Optional columns whose absence means a value rather than "unknown".
OPTIONAL_DEFAULTS: dict[str, dict[str, Any]] = {"orders": {"exchange_rate": 1.0}}
SCHEMAS: dict[str, dict[str, str]] = {
    "customers": CUSTOMER_COLUMNS,
    "orders": ORDER_COLUMNS,
    "events": EVENT_COLUMNS,
    "interactions": INTERACTION_COLUMNS,
    "campaign_responses": CAMPAIGN_RESPONSE_COLUMNS,
}


# What datetime64[ns] can hold (1677-09-21 .. 2262-04-11): anything outside is unusable, not fatal.
_FIRST_INSTANT = pd.Timestamp.min.tz_localize("UTC")
_LAST_INSTANT = pd.Timestamp.max.tz_localize("UTC")


def to_utc(values: Any) -> pd.Series:
    """Parse timestamps to datetime64[ns, UTC]; naive values are taken to be UTC already.

    Never raises on a value: unparseable ones and ones datetime64[ns] cannot hold (before 1677-09-21
    or after 2262-04-11) become NaT, which the cleaning step drops and counts, so one bad stored row
    cannot fail a whole run. Readers use this too when they build their frames.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if str(series.dtype) == TIMESTAMP_DTYPE:
        return series
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
        parsed = pd.to_datetime(series, utc=True)
    else:
        # ISO 8601 is the fast path; "mixed" (slow, per element) only for what it could not read.
        parsed = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
        retry = parsed.isna() & series.notna()
        if retry.any():
            parsed[retry] = pd.to_datetime(series[retry], utc=True, errors="coerce", format="mixed")
    if str(parsed.dtype) != TIMESTAMP_DTYPE:
        parsed = parsed.mask(parsed.lt(_FIRST_INSTANT) | parsed.gt(_LAST_INSTANT))
    return parsed.astype(TIMESTAMP_DTYPE)


def as_utc_timestamp(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.as_unit("ns")


def as_of_cutoff(as_of: Any, *, timezone: str = "UTC") -> pd.Timestamp:
    """The exclusive cutoff instant (UTC) of "as of `as_of`"; every step keeps only data strictly before it.

    A calendar date D (a `datetime.date` that is not a datetime) means all of D in `timezone`: the cutoff
    is the start of D+1 there, so 23:59:59 local of D is in and 00:00:00 local of D+1 is out. An
    instant (datetime, Timestamp, ISO string; naive = UTC) is its own cutoff.
    """
    try:
        if isinstance(as_of, date) and not isinstance(as_of, datetime):
            start = pd.Timestamp(as_of + timedelta(days=1)).tz_localize(timezone, nonexistent="shift_forward")
            return start.tz_convert("UTC").as_unit("ns")
        return as_utc_timestamp(as_of)
    except (OverflowError, pd.errors.OutOfBoundsDatetime) as error:
        raise ValueError(
            f"as of {as_of}: outside what datetime64[ns] holds (1677-09-22 to 2262-04-10)"
        ) from error


def local_days(stamps: pd.Series, timezone: str = "UTC") -> np.ndarray:
    """Local calendar day of each (UTC) timestamp in `timezone`, as int64 days since 1970-01-01.

    The one way the pipeline counts days (transaction days, recency, tenure, the as-of day): a purchase
    at 07:00 in Shanghai is on that Shanghai day, not the previous UTC one. Stamps must not be NaT.
    """
    local = stamps.dt.tz_convert(timezone).dt.tz_localize(None)
    return local.to_numpy(dtype="datetime64[ns]").view(np.int64) // NS_PER_DAY


def as_of_day(cutoff: Any, timezone: str = "UTC") -> int:
    """The as-of day D of an exclusive cutoff (the local day of its last included instant), as a day
    number comparable with `local_days`: the cutoff at the start of D+1 and any instant during D give D
    (and so does the date D itself)."""
    last = as_of_cutoff(cutoff, timezone=timezone) - pd.Timedelta(1, "ns")
    return int(last.tz_convert(timezone).tz_localize(None).as_unit("ns").value // NS_PER_DAY)


def _conformed(series: pd.Series, kind: str) -> bool:
    dtype = series.dtype
    if kind == "datetime":
        return str(dtype) == TIMESTAMP_DTYPE
    if kind == "float":
        return dtype == np.float64
    if kind == "bool":
        return dtype == np.bool_
    if kind == "str":
        return isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype))
    return True


def _coerce(series: pd.Series, kind: str) -> pd.Series:
    # Steps hand conformed frames to each other; re-coercing them would cost a pass over every row.
    if _conformed(series, kind):
        return series
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
    defaults = OPTIONAL_DEFAULTS.get(name, {})
    for column, kind in schema.items():
        if column in frame.columns:
            source = frame[column]
        elif column in defaults:
            source = pd.Series(defaults[column], index=frame.index)
        else:
            source = pd.Series(None, index=frame.index, dtype=object)
        columns[column] = _coerce(source, kind)
    # copy=False: the columns that needed no coercion share the input's memory (copy-on-write keeps the
    # input unchanged); pandas 3 copies by default, which doubled the 10 M-event frame.
    return pd.DataFrame(columns, index=frame.index, copy=False)


def share_customer_ids(*frames: pd.DataFrame) -> list[pd.DataFrame]:
    """The frames with `customer_id` as one shared categorical dtype whose categories are sorted ids.

    Grouping and joining on strings costs a hash (or a sort) of every row each time; with shared
    codes, per-customer aggregation is integer arithmetic. Free when the frames already share a dtype;
    otherwise categoricals are re-coded through their categories, plain columns with one look-up a row.
    """
    columns = [frame["customer_id"] for frame in frames]
    dtypes = [column.dtype for column in columns]
    if dtypes and all(isinstance(d, pd.CategoricalDtype) for d in dtypes):
        first = dtypes[0].categories
        if all(d.categories is first or d.categories.equals(first) for d in dtypes[1:]):
            return list(frames)
    # The union of the distinct ids (a categorical's categories, a plain column's unique values), then
    # each column re-coded against it: categoricals by mapping their categories (no pass over the
    # strings of every row), plain columns by one look-up per row.
    distinct = [
        pd.Index(column.cat.categories.astype("str"))
        if isinstance(column.dtype, pd.CategoricalDtype)
        else pd.Index(column.dropna().astype("str").unique())
        for column in columns
    ]
    union = distinct[0].append(distinct[1:]).unique().sort_values() if distinct else pd.Index([])
    dtype = pd.CategoricalDtype(pd.Index(union, dtype="str", name=None))
    shared = []
    for frame, column in zip(frames, columns, strict=True):
        if isinstance(column.dtype, pd.CategoricalDtype):
            mapping = dtype.categories.get_indexer(column.cat.categories.astype("str"))
            old = column.cat.codes.to_numpy()
            codes = np.where(old >= 0, mapping[np.maximum(old, 0)] if len(mapping) else -1, -1)
        else:
            codes = dtype.categories.get_indexer(column.astype("str"))
            codes[column.isna().to_numpy()] = -1
        ids = pd.Categorical.from_codes(codes, dtype=dtype)
        shared.append(frame.assign(customer_id=pd.Series(ids, index=frame.index)))
    return shared


def id_codes(frame: pd.DataFrame) -> np.ndarray:
    """Integer code of each row's customer (-1 where missing); the frame must come from share_customer_ids."""
    return frame["customer_id"].cat.codes.to_numpy().astype(np.int64)


def id_categories(frame: pd.DataFrame) -> pd.Index:
    return frame["customer_id"].dtype.categories


def value_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of a low-cardinality column, in sorted value order (so ties can break by name)."""
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques)


def top_n_per_customer(
    customers: np.ndarray, values: np.ndarray, scores: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of each customer's n best (highest score, then lowest value code) rows, and ranks."""
    if len(customers) == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    order = np.lexsort((values, -scores, customers))
    sorted_customers = customers[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_customers)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.arange(len(order)) - group_start + 1
    keep = rank <= n
    return order[keep], rank[keep]


def pair_totals(
    customers: np.ndarray, values: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (customer, value) pairs with their row count and weight sum; missing codes skipped."""
    valid = (customers >= 0) & (values >= 0)
    customers, values = customers[valid], values[valid]
    width = int(values.max()) + 1 if len(values) else 1
    keys, inverse, counts = np.unique(customers * width + values, return_inverse=True, return_counts=True)
    totals = np.bincount(inverse, weights=None if weights is None else weights[valid], minlength=len(keys))
    return keys // width, keys % width, counts.astype(np.float64), totals.astype(np.float64)


def mode_per_customer(frame: pd.DataFrame, column: str) -> pd.Series:
    """Most frequent value of `column` per customer (index customer_id); ties go to the smallest value."""
    (frame,) = share_customer_ids(frame)
    data = frame[frame["customer_id"].notna() & frame[column].notna()]
    values, uniques = value_codes(data[column])
    customers = id_codes(data)
    categories = id_categories(data)
    if len(uniques) <= _DENSE_MODE_WIDTH:
        # Few distinct values (hours, weekdays, channels): a customers x values count table and an
        # argmax (which picks the first, i.e. smallest, value on ties) beat sorting every row.
        width = max(len(uniques), 1)
        table = np.bincount(customers * width + values, minlength=len(categories) * width)
        table = table.reshape(len(categories), width)
        seen = table.sum(axis=1) > 0
        best = table.argmax(axis=1)[seen]
        index = pd.Index(categories[seen], dtype="str", name="customer_id")
        return pd.Series(uniques.take(best), index=index, name=column)
    customer, value, counts, _ = pair_totals(customers, values)
    rows, _ = top_n_per_customer(customer, value, counts, 1)
    index = pd.Index(categories.take(customer[rows]), dtype="str", name="customer_id")
    return pd.Series(uniques.take(value[rows]), index=index, name=column)


def lists_per_customer(
    customer_ids: pd.Series, ranks: pd.Series, values: pd.Series, index: pd.Index | None = None
) -> pd.Series:
    """One list per customer of `values` in rank order, aligned to `index` ([] where a customer has none)."""
    if index is None:
        index = pd.Index(pd.unique(customer_ids.astype("str")), dtype="str", name="customer_id")
    position = index.get_indexer(customer_ids.astype("str"))
    rank = ranks.to_numpy(dtype=np.int64)
    keep = position >= 0
    width = int(rank[keep].max()) if keep.any() else 0
    # A padded table filled in one vectorised assignment; tolist() then slicing is the only per-row work.
    table = np.full((len(index), width), None, dtype=object)
    table[position[keep], rank[keep] - 1] = values.to_numpy(dtype=object)[keep]
    lengths = np.zeros(len(index), dtype=np.int64)
    np.maximum.at(lengths, position[keep], rank[keep])
    lists = [row[:length] for row, length in zip(table.tolist(), lengths.tolist(), strict=True)]
    return pd.Series(lists, index=index, dtype=object)


def normalise_labels(values: pd.Series) -> pd.Series:
    """Trimmed, lower-cased labels, blanks missing; string work on the distinct values only."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = pd.Series(uniques, dtype="str").str.strip().str.lower()
    labels = labels.where(labels.str.len() > 0)
    result = (
        labels.take(np.where(codes < 0, 0, codes)) if len(labels) else pd.Series(np.nan, index=values.index)
    )
    result = pd.Series(result.to_numpy(), index=values.index, dtype="str")
    return result.where(codes >= 0)


def extract_property(properties: pd.Series, key: str) -> pd.Series:
    """Value of `key` in each properties dict (None where the row has no dict or no such key)."""
    values = [p.get(key) if isinstance(p, Mapping) else None for p in properties.to_numpy()]
    return pd.Series(values, index=properties.index, dtype=object)
