"""Where the pipeline's inputs come from: a small registry of chunked readers.

Lower apps (customers, orders, sessions_log) are read through their selectors here; apps that do not
exist yet (marketing's campaign responses) register a reader from their own AppConfig.ready() with
``input_readers.register("campaign_responses", reader)`` so profiles never imports them. Until one is
registered, that input is an empty frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.utils import timezone

from profiles.pipeline.frames import to_utc

# reader(*, as_of, customer_ids, chunk_size) -> chunks (lists of row dicts, or DataFrames) with the
# pipeline's column names
Reader = Callable[..., Iterator[Any]]
INPUT_NAMES = ("customers", "orders", "events", "interactions", "campaign_responses")


class InputRegistry:
    def __init__(self) -> None:
        self._readers: dict[str, Reader] = {}

    def register(self, name: str, reader: Reader) -> None:
        if name not in INPUT_NAMES:
            raise ValueError(f"unknown pipeline input {name!r}")
        self._readers[name] = reader

    def reader(self, name: str) -> Reader | None:
        return self._readers.get(name)


input_readers = InputRegistry()


def _customers(
    *, as_of: datetime | None, customer_ids: list[str] | None, chunk_size: int
) -> Iterator[pd.DataFrame]:
    """Master data as frames: repeated labels as categoricals, dates as datetime64 (a tenth of the memory
    of one Python object per value at a million customers)."""
    from customers.selectors import customers_for_profiles

    for chunk in customers_for_profiles(customer_ids=customer_ids, chunk_size=chunk_size):
        # Everyone who exists is profiled; customers without data before as_of get an empty portrait.
        frame = pd.DataFrame.from_records(chunk).rename(columns={"id": "customer_id"})
        frame["customer_id"] = frame["customer_id"].astype("str")
        for column in frame.columns.drop("customer_id"):
            if column in ("created_at", "birth_date"):
                # NaT where datetime64[ns] cannot hold the value (a birth date in 1500): never raises.
                frame[column] = to_utc(frame[column].astype(object))
            elif frame[column].dtype == object:
                frame[column] = pd.Categorical(frame[column])
        yield frame


def _codes(values: list[str]) -> pd.Categorical:
    return pd.Categorical(values) if values else pd.Categorical([], categories=[])


def _orders(
    *, as_of: datetime | None, customer_ids: list[str] | None, chunk_size: int
) -> Iterator[pd.DataFrame]:
    """Purchased order lines as one frame: orders and lines read in two streamed passes, joined here.

    Order-level columns are categoricals over the orders (one string per order, not per line). No
    line_id: database lines are unique by key, so there is nothing for the cleaning step to de-duplicate.
    ``exchange_rate`` is the rate into the base currency in force on each order's local day (orders'
    rate table), NaN where there is none: cleaning drops and counts those lines, never takes them at 1.
    """
    from orders.selectors import purchased_lines, purchased_orders
    from orders.selectors.rates import rate_table

    rates = rate_table()
    position: dict[str, int] = {}
    customers: list[str] = []
    moments: list[Any] = []
    channels: list[str] = []
    foreign: list[tuple[int, str, Any]] = []  # orders not in the base currency: (position, currency, at)
    for chunk in purchased_orders(as_of=as_of, customer_ids=customer_ids, chunk_size=chunk_size):
        for pk, customer_id, ordered_at, channel, currency in chunk:
            if currency != rates.base:
                foreign.append((len(customers), currency, ordered_at))
            position[pk] = len(customers)
            customers.append(customer_id)
            moments.append(ordered_at)
            channels.append(channel)
    order_rates = np.ones(len(customers), dtype=np.float64)
    seen: dict[tuple[str, Any], float] = {}
    for position_of_order, currency, ordered_at in foreign:
        key = (currency, timezone.localtime(ordered_at).date())
        if key not in seen:
            rate = rates.rate_on(*key)
            seen[key] = float(rate) if rate is not None else np.nan
        order_rates[position_of_order] = seen[key]
    at: list[int] = []
    columns: dict[str, list[Any]] = {name: [] for name in ("category", "sku", "quantity", "amount")}
    # Everyone's lines: one plain pass filtered by the orders just read; a few customers': by order ids.
    known = position if customer_ids is None else None
    for lines in purchased_lines(as_of=as_of, customer_ids=customer_ids, chunk_size=chunk_size, orders=known):
        for _pk, order_id, category, sku, quantity, amount in lines:
            index = position.get(order_id)
            if index is None:  # an order that became purchased between the two reads
                continue
            at.append(index)
            columns["category"].append(category)
            columns["sku"].append(sku)
            columns["quantity"].append(quantity)
            columns["amount"].append(amount)
    if not at:
        return
    rows = np.array(at, dtype=np.int64)
    order_ids = pd.Categorical.from_codes(rows, categories=pd.Index(list(position), dtype="str"))
    del position
    by_order = {"customer_id": _codes(customers), "channel": _codes(channels)}
    yield pd.DataFrame(
        {
            "customer_id": pd.Categorical.from_codes(
                by_order["customer_id"].codes[rows], dtype=by_order["customer_id"].dtype
            ),
            "order_id": order_ids,
            # NaT for moments outside datetime64[ns] (before 1677): cleaning drops and counts them.
            "ordered_at": to_utc(pd.Series(moments, dtype=object)).to_numpy()[rows],
            "category": _codes(columns.pop("category")),
            "sku": _codes(columns.pop("sku")),
            "quantity": np.array(columns.pop("quantity"), dtype=np.int64),
            # Decimals would make pandas build an object column; the pipeline wants floats.
            "amount": np.array(columns.pop("amount"), dtype=np.float64),
            "channel": pd.Categorical.from_codes(
                by_order["channel"].codes[rows], dtype=by_order["channel"].dtype
            ),
            "exchange_rate": order_rates[rows],
        }
    )


def _events(
    *, as_of: datetime | None, customer_ids: list[str] | None, chunk_size: int
) -> Iterator[pd.DataFrame]:
    from profiles.selectors import events_for_profiles

    yield from events_for_profiles(as_of=as_of, customer_ids=customer_ids, chunk_size=chunk_size)


def _interactions(
    *, as_of: datetime | None, customer_ids: list[str] | None, chunk_size: int
) -> Iterator[pd.DataFrame]:
    """The sessions log's interactions for the contact features: its channel is the pipeline's ``kind``
    (``channel`` there is a sales channel); repeated labels as categoricals."""
    from sessions_log.selectors import interaction_feature_rows

    for chunk in interaction_feature_rows(as_of=as_of, customer_ids=customer_ids, chunk_size=chunk_size):
        customer, kind, direction, outcome, occurred_at = zip(*chunk, strict=True)
        yield pd.DataFrame(
            {
                "customer_id": pd.Categorical(customer),
                "kind": pd.Categorical(kind),
                "direction": pd.Categorical(direction),
                "outcome": pd.Categorical(outcome),
                "occurred_at": to_utc(pd.Series(occurred_at, dtype=object)),
            }
        )


input_readers.register("customers", _customers)
input_readers.register("orders", _orders)
input_readers.register("events", _events)
input_readers.register("interactions", _interactions)


def read_input(
    name: str, *, as_of: datetime | None, customer_ids: list[str] | None = None, chunk_size: int = 50_000
) -> pd.DataFrame:
    """One input as a DataFrame, built chunk by chunk (each chunk becomes a frame at once)."""
    reader = input_readers.reader(name)
    if reader is None:
        return pd.DataFrame()
    frames = [
        chunk if isinstance(chunk, pd.DataFrame) else pd.DataFrame.from_records(chunk)
        for chunk in reader(as_of=as_of, customer_ids=customer_ids, chunk_size=chunk_size)
        if len(chunk)
    ]
    if not frames:
        return pd.DataFrame()
    return concat_frames(frames)


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """pd.concat that keeps categorical columns categorical (plain concat turns differing ones to object)."""
    if len(frames) == 1:
        return frames[0]
    first = frames[0]
    categorical = [c for c in first.columns if isinstance(first[c].dtype, pd.CategoricalDtype)]
    merged = {
        column: pd.api.types.union_categoricals([frame[column] for frame in frames], ignore_order=True)
        for column in categorical
        if all(isinstance(frame[column].dtype, pd.CategoricalDtype) for frame in frames)
    }
    result = pd.concat([frame.drop(columns=list(merged)) for frame in frames], ignore_index=True)
    for column, values in merged.items():
        result[column] = values
    return result[list(first.columns)]


def read_inputs(
    *, as_of: datetime | None, customer_ids: list[str] | None = None, chunk_size: int = 50_000
) -> dict[str, pd.DataFrame]:
    return {
        name: read_input(name, as_of=as_of, customer_ids=customer_ids, chunk_size=chunk_size)
        for name in INPUT_NAMES
    }
