"""Per-customer features as of a moment in time.

Every record after `as_of` is ignored, so the same function builds today's features and the
historical snapshots the churn model trains on. Customers with no orders still get a row (with
frequency 0 and no recency) when they appear in any input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import as_utc_timestamp, conform, union_ids

EVENT_TYPES = ("page_view", "app_open", "search", "add_to_cart", "coupon_use")
RECENT_DAYS = 90

# Numeric columns the models (churn, clusters) consume; datetimes and ids stay out.
MODEL_FEATURES = (
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_avg",
    "tenure_days",
    "orders_90d",
    "spend_90d",
    "distinct_categories",
    *(f"events_{name}" for name in EVENT_TYPES),
    "events_total",
    "interaction_count",
    "campaign_response_rate",
)


def _before(frame: pd.DataFrame, column: str, cutoff: pd.Timestamp) -> pd.DataFrame:
    return frame[frame[column].le(cutoff) & frame["customer_id"].notna()]


def customer_features(
    orders: pd.DataFrame,
    events: pd.DataFrame,
    interactions: pd.DataFrame,
    campaign_responses: pd.DataFrame,
    *,
    as_of: object,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer (index `customer_id`) with behaviour features as of `as_of`.

    Columns: first_purchase_at, last_purchase_at, recency_days (NaN without orders), frequency
    (distinct orders), monetary_total, monetary_avg (per order), tenure_days (since the earliest of
    sign-up and any activity), orders_90d, spend_90d, distinct_categories, events_<type> for
    EVENT_TYPES, events_total, interaction_count, campaigns_sent, campaign_response_rate (NaN when
    never targeted).
    """
    cutoff = as_utc_timestamp(as_of)
    orders = _before(conform(orders, "orders"), "ordered_at", cutoff)
    events = _before(conform(events, "events"), "occurred_at", cutoff)
    interactions = _before(conform(interactions, "interactions"), "occurred_at", cutoff)
    responses = conform(campaign_responses, "campaign_responses")
    responses = responses[responses["customer_id"].notna() & ~responses["sent_at"].gt(cutoff)]
    master = conform(customers, "customers")
    master = master[master["customer_id"].notna() & ~master["created_at"].gt(cutoff)]

    index = union_ids(
        master["customer_id"],
        orders["customer_id"],
        events["customer_id"],
        interactions["customer_id"],
        responses["customer_id"],
    )
    result = pd.DataFrame(index=index)

    by_customer = orders.groupby("customer_id")
    first = by_customer["ordered_at"].min()
    last = by_customer["ordered_at"].max()
    result["first_purchase_at"] = first.reindex(index)
    result["last_purchase_at"] = last.reindex(index)
    result["recency_days"] = (cutoff - result["last_purchase_at"]).dt.total_seconds() / 86_400.0
    result["frequency"] = by_customer["order_id"].nunique().reindex(index, fill_value=0).astype("int64")
    result["monetary_total"] = by_customer["amount"].sum().reindex(index, fill_value=0.0).astype("float64")
    result["monetary_avg"] = (
        result["monetary_total"] / result["frequency"].where(result["frequency"] > 0)
    ).fillna(0.0)

    recent = orders[orders["ordered_at"] > cutoff - pd.Timedelta(days=RECENT_DAYS)].groupby("customer_id")
    result["orders_90d"] = recent["order_id"].nunique().reindex(index, fill_value=0).astype("int64")
    result["spend_90d"] = recent["amount"].sum().reindex(index, fill_value=0.0).astype("float64")
    result["distinct_categories"] = (
        by_customer["category"].nunique().reindex(index, fill_value=0).astype("int64")
    )

    starts = [
        master.set_index("customer_id")["created_at"].groupby(level=0).min(),
        first,
        events.groupby("customer_id")["occurred_at"].min(),
        interactions.groupby("customer_id")["occurred_at"].min(),
        responses.groupby("customer_id")["sent_at"].min(),
    ]
    start = pd.concat([s.reindex(index) for s in starts], axis=1).min(axis=1)
    result["tenure_days"] = ((cutoff - start).dt.total_seconds() / 86_400.0).fillna(0.0)

    counts = events.groupby(["customer_id", "event_type"]).size().unstack(fill_value=0)
    for name in EVENT_TYPES:
        column = counts[name] if name in counts.columns else pd.Series(dtype="int64")
        result[f"events_{name}"] = column.reindex(index, fill_value=0).astype("int64")
    result["events_total"] = events.groupby("customer_id").size().reindex(index, fill_value=0).astype("int64")
    result["interaction_count"] = (
        interactions.groupby("customer_id").size().reindex(index, fill_value=0).astype("int64")
    )

    by_response = responses.groupby("customer_id")["responded"]
    result["campaigns_sent"] = by_response.size().reindex(index, fill_value=0).astype("int64")
    result["campaign_response_rate"] = by_response.mean().reindex(index).astype("float64")
    return result


def model_matrix(features: pd.DataFrame) -> pd.DataFrame:
    """MODEL_FEATURES as a float matrix without gaps, for estimators that cannot take NaN.

    A customer who never bought is treated as having last bought when they first appeared (recency =
    tenure), and a customer never targeted as having the response rate of nobody (0).
    """
    matrix = features.reindex(columns=list(MODEL_FEATURES)).astype("float64")
    matrix["recency_days"] = matrix["recency_days"].fillna(matrix["tenure_days"])
    return matrix.fillna(0.0).replace([np.inf, -np.inf], 0.0)
