"""Per-customer features as of a moment in time.

Inputs are expected to have been through clean_events / clean_orders (event types normalised,
impossible rows dropped). Every record at or after the `as_of` cutoff is ignored (see
`frames.as_of_cutoff`), so the same function builds
today's features and the historical snapshots the churn model trains on. Customers with no orders
still get a row (with frequency 0 and no recency) when they appear in any input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import as_of_cutoff, as_of_day, conform, id_categories, id_codes, local_days, share_customer_ids
from .interactions import INTERACTION_COLUMNS, INTERACTION_FEATURES, NEUTRAL_VALUES, interaction_columns

EVENT_TYPES = ("page_view", "app_open", "search", "add_to_cart", "coupon_use")
RECENT_DAYS = 90

# Per-customer purchase-history numbers (the churn model uses only these).
PURCHASE_FEATURES = (
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_avg",
    "tenure_days",
    "orders_90d",
    "spend_90d",
    "distinct_categories",
)
EVENT_FEATURES = (*(f"events_{name}" for name in EVENT_TYPES), "events_total", "interaction_count")

# Numeric columns the models (churn, clusters) consume; datetimes and ids stay out.
MODEL_FEATURES = (*PURCHASE_FEATURES, *EVENT_FEATURES, "campaign_response_rate", *INTERACTION_FEATURES)

FEATURE_COLUMNS = [
    "first_purchase_at",
    "last_purchase_at",
    *PURCHASE_FEATURES,
    *EVENT_FEATURES,
    "campaigns_sent",
    "campaign_response_rate",
    *INTERACTION_COLUMNS,
]


def _before(frame: pd.DataFrame, column: str, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Rows strictly before the exclusive cutoff (missing stamps are not before anything)."""
    return frame[frame[column].lt(cutoff) & frame["customer_id"].notna()]


def _ns(stamps: pd.Series) -> np.ndarray:
    return stamps.to_numpy(dtype="datetime64[ns]").view(np.int64)


class _Aggregator:
    """Per-customer sums, counts and extremes over integer customer codes (0..n-1)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def count(self, codes: np.ndarray) -> np.ndarray:
        return np.bincount(codes, minlength=self.n).astype(np.int64)

    def total(self, codes: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=self.n)

    def distinct(self, codes: np.ndarray, values: pd.Series) -> np.ndarray:
        value, uniques = pd.factorize(values, use_na_sentinel=True)
        keep = value >= 0
        pairs = np.unique(codes[keep] * max(len(uniques), 1) + value[keep])
        return np.bincount(pairs // max(len(uniques), 1), minlength=self.n).astype(np.int64)

    def extreme(self, codes: np.ndarray, stamps: pd.Series, *, first: bool) -> np.ndarray:
        """Earliest (first=True) or latest timestamp as int64 ns; NaT's int64 where a customer has none."""
        missing = np.iinfo(np.int64).min
        result = np.full(self.n, np.iinfo(np.int64).max if first else missing, dtype=np.int64)
        (np.minimum if first else np.maximum).at(result, codes, _ns(stamps))
        result[self.count(codes) == 0] = missing
        return result


def _stamps(ns: np.ndarray) -> pd.Series:
    return pd.Series(ns.view("datetime64[ns]")).dt.tz_localize("UTC")


def customer_features(
    orders: pd.DataFrame,
    events: pd.DataFrame,
    interactions: pd.DataFrame,
    campaign_responses: pd.DataFrame,
    *,
    as_of: object,
    customers: pd.DataFrame | None = None,
    timezone: str = "UTC",
) -> pd.DataFrame:
    """One row per customer (index `customer_id`) with behaviour features as of `as_of`.

    Columns: first_purchase_at, last_purchase_at, recency_days (whole days from the last purchase day
    to the as-of day D, NaN without orders), frequency (distinct orders), monetary_total, monetary_avg
    (per order), tenure_days (whole days since the day of the earliest of sign-up and any activity),
    orders_90d and spend_90d (the 90 days ending with D), distinct_categories, events_<type> for
    EVENT_TYPES, events_total, interaction_count, campaigns_sent, campaign_response_rate (NaN when
    never targeted), and the contact features of `interactions.INTERACTION_COLUMNS` (NaN where
    undefined for a customer never contacted; see that module).
    """
    cutoff = as_of_cutoff(as_of, timezone=timezone)
    today = as_of_day(cutoff, timezone)
    orders = _before(conform(orders, "orders"), "ordered_at", cutoff)
    events = _before(conform(events, "events"), "occurred_at", cutoff)
    interactions = _before(conform(interactions, "interactions"), "occurred_at", cutoff)
    responses = conform(campaign_responses, "campaign_responses")
    responses = responses[responses["customer_id"].notna() & ~responses["sent_at"].ge(cutoff)]
    master = conform(customers, "customers")
    master = master[master["customer_id"].notna() & ~master["created_at"].ge(cutoff)]
    orders, events, interactions, responses, master = share_customer_ids(
        orders, events, interactions, responses, master
    )
    categories = id_categories(orders)
    agg = _Aggregator(len(categories))
    o, e, i, r, m = (id_codes(f) for f in (orders, events, interactions, responses, master))

    present = np.zeros(agg.n, dtype=bool)
    for codes in (o, e, i, r, m):
        present[codes] = True
    columns: dict[str, np.ndarray] = {}
    first = agg.extreme(o, orders["ordered_at"], first=True)
    last = agg.extreme(o, orders["ordered_at"], first=False)
    frequency = agg.distinct(o, orders["order_id"])
    spend = agg.total(o, orders["amount"].to_numpy())
    # Days in the server's time zone (local_days): the as-of day and the RECENT_DAYS - 1 days before it.
    recent = local_days(orders["ordered_at"], timezone) > today - RECENT_DAYS
    columns["frequency"] = frequency
    columns["monetary_total"] = spend
    columns["monetary_avg"] = np.divide(spend, frequency, out=np.zeros(agg.n), where=frequency > 0)
    columns["orders_90d"] = agg.distinct(o[recent], orders["order_id"][recent])
    columns["spend_90d"] = agg.total(o[recent], orders["amount"].to_numpy()[recent])
    columns["distinct_categories"] = agg.distinct(o, orders["category"])
    starts = [first, agg.extreme(e, events["occurred_at"], first=True)]
    starts += [agg.extreme(i, interactions["occurred_at"], first=True)]
    starts += [agg.extreme(r, responses["sent_at"].fillna(cutoff), first=True)]
    starts += [agg.extreme(m, master["created_at"].fillna(cutoff), first=True)]
    nat = np.iinfo(np.int64).min
    start = np.min(np.where(np.stack(starts) == nat, np.iinfo(np.int64).max, np.stack(starts)), axis=0)
    columns["tenure_days"] = np.zeros(agg.n)
    columns["tenure_days"][present] = np.maximum(today - local_days(_stamps(start[present]), timezone), 0.0)

    kind = events["event_type"].to_numpy(dtype=object)
    for name in EVENT_TYPES:
        columns[f"events_{name}"] = agg.count(e[kind == name])
    columns["events_total"] = agg.count(e)
    columns["interaction_count"] = agg.count(i)
    sent = agg.count(r)
    columns["campaigns_sent"] = sent
    responded = agg.total(r, responses["responded"].to_numpy(dtype=np.float64))
    columns["campaign_response_rate"] = np.divide(responded, sent, out=np.full(agg.n, np.nan), where=sent > 0)
    columns.update(interaction_columns(interactions, i, agg.n, cutoff=cutoff, timezone=timezone))

    index = pd.Index(categories[present], dtype="str", name="customer_id")
    result = pd.DataFrame(
        {"first_purchase_at": _stamps(first[present]), "last_purchase_at": _stamps(last[present])}
    )
    result.index = index
    bought = last[present] != nat
    recency = np.full(len(index), np.nan)
    recency[bought] = today - local_days(_stamps(last[present][bought]), timezone)
    result.insert(2, "recency_days", recency)
    for name, values in columns.items():
        result[name] = values[present]
    return result[FEATURE_COLUMNS]


def model_matrix(features: pd.DataFrame) -> pd.DataFrame:
    """MODEL_FEATURES as a float matrix without gaps, for estimators that cannot take NaN.

    A customer who never bought is treated as having last bought when they first appeared (recency =
    tenure), a customer never targeted as having the response rate of nobody (0), and a customer never
    contacted as last contacted when they first appeared, with the contact features'
    `interactions.NEUTRAL_VALUES`.
    """
    matrix = features.reindex(columns=list(MODEL_FEATURES)).astype("float64")
    matrix["recency_days"] = matrix["recency_days"].fillna(matrix["tenure_days"])
    matrix["days_since_contact"] = matrix["days_since_contact"].fillna(matrix["tenure_days"])
    matrix = matrix.fillna(NEUTRAL_VALUES)
    return matrix.fillna(0.0).replace([np.inf, -np.inf], 0.0)
