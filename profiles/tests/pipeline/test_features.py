"""Customer features: known answers on a small history, customers without orders, the as-of cut."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from profiles.pipeline.features import MODEL_FEATURES, customer_features, model_matrix

# The cutoff is exclusive: as of the end of 2024-06-30 (UTC, the pure functions' default zone).
AS_OF = pd.Timestamp("2024-07-01", tz="UTC")
EMPTY_EVENTS = pd.DataFrame(columns=["customer_id", "event_type", "occurred_at"])
EMPTY_INTERACTIONS = pd.DataFrame(columns=["customer_id", "occurred_at"])
EMPTY_RESPONSES = pd.DataFrame(columns=["customer_id", "responded"])


@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "z"],
            "order_id": ["1", "1", "2", "3", "4"],
            "ordered_at": pd.to_datetime(
                ["2024-06-01", "2024-06-01", "2024-06-21", "2023-01-01", "2024-08-01"]
            ),
            "category": ["tea", "cups", "tea", "books", "tea"],
            "amount": [10.0, 5.0, 45.0, 20.0, 99.0],
        }
    )


def test_customer_features_compute_recency_frequency_and_spend_per_order(orders: pd.DataFrame) -> None:
    features = customer_features(orders, EMPTY_EVENTS, EMPTY_INTERACTIONS, EMPTY_RESPONSES, as_of=AS_OF)
    a = features.loc["a"]
    # Whole days from the last purchase day (06-21) to the as-of day (06-30).
    assert a["recency_days"] == 9.0
    assert a["frequency"] == 2
    assert a["monetary_total"] == 60.0
    assert a["monetary_avg"] == 30.0
    assert a["distinct_categories"] == 2
    assert a["orders_90d"] == 2 and features.loc["b", "orders_90d"] == 0
    assert a["tenure_days"] == 29.0
    assert a["first_purchase_at"] == pd.Timestamp("2024-06-01", tz="UTC")


def test_customer_features_ignore_everything_after_as_of(orders: pd.DataFrame) -> None:
    features = customer_features(orders, EMPTY_EVENTS, EMPTY_INTERACTIONS, EMPTY_RESPONSES, as_of=AS_OF)
    assert "z" not in features.index
    earlier = customer_features(orders, EMPTY_EVENTS, EMPTY_INTERACTIONS, EMPTY_RESPONSES, as_of="2024-06-10")
    assert earlier.loc["a", "frequency"] == 1 and earlier.loc["a", "monetary_total"] == 15.0


def test_customer_features_include_customers_without_orders_from_any_input(orders: pd.DataFrame) -> None:
    events = pd.DataFrame(
        {
            "customer_id": ["c", "c", "c", "a"],
            "event_type": ["search", "search", "app_open", "purchase"],
            "occurred_at": pd.to_datetime(["2024-06-01", "2024-06-02", "2024-06-03", "2024-06-03"], utc=True),
        }
    )
    interactions = pd.DataFrame({"customer_id": ["d"], "occurred_at": ["2024-05-01"], "kind": ["call"]})
    responses = pd.DataFrame({"customer_id": ["a", "a", "e"], "responded": [True, False, False]})
    customers = pd.DataFrame({"customer_id": ["f", "g"], "created_at": ["2024-01-01", "2024-12-01"]})
    features = customer_features(orders, events, interactions, responses, as_of=AS_OF, customers=customers)
    assert list(features.index) == ["a", "b", "c", "d", "e", "f"]
    c = features.loc["c"]
    assert (c["frequency"], c["monetary_total"], c["events_search"], c["events_app_open"]) == (0, 0.0, 2, 1)
    assert np.isnan(c["recency_days"])
    # Event types outside the named ones still count towards the total.
    assert features.loc["a", "events_total"] == 1 and features.loc["a", "events_search"] == 0
    assert features.loc["d", "interaction_count"] == 1
    assert features.loc["a", "campaign_response_rate"] == 0.5
    assert np.isnan(features.loc["b", "campaign_response_rate"])
    assert features.loc["f", "tenure_days"] == 181.0


def test_customer_features_of_empty_inputs_is_an_empty_frame_with_every_column() -> None:
    orders = pd.DataFrame(columns=["customer_id", "order_id", "ordered_at", "amount"])
    features = customer_features(orders, EMPTY_EVENTS, EMPTY_INTERACTIONS, EMPTY_RESPONSES, as_of=AS_OF)
    assert features.empty
    assert set(MODEL_FEATURES) <= set(features.columns)
    assert model_matrix(features).shape == (0, len(MODEL_FEATURES))


def test_model_matrix_has_no_gaps_and_treats_non_buyers_as_last_seen_at_sign_up(orders: pd.DataFrame) -> None:
    customers = pd.DataFrame({"customer_id": ["n"], "created_at": ["2024-06-21"]})
    features = customer_features(
        orders, EMPTY_EVENTS, EMPTY_INTERACTIONS, EMPTY_RESPONSES, as_of=AS_OF, customers=customers
    )
    matrix = model_matrix(features)
    assert not matrix.isna().any().any()
    assert matrix.loc["n", "recency_days"] == 9.0
    assert matrix.loc["n", "campaign_response_rate"] == 0.0


def test_days_are_counted_in_the_server_time_zone_up_to_the_end_of_the_as_of_day() -> None:
    shanghai = "Asia/Shanghai"
    orders = pd.DataFrame(
        {
            # 07:00 in Shanghai on 06-21 is 23:00 UTC on 06-20: it is a 06-21 purchase there.
            "customer_id": ["a", "a", "a"],
            "order_id": ["1", "2", "late"],
            "ordered_at": pd.to_datetime(
                ["2024-06-01T07:00:00+08:00", "2024-06-21T07:00:00+08:00", "2024-07-01T00:00:00+08:00"],
                utc=True,
            ),
            "amount": [10.0, 0.0, 5.0],
        }
    )
    customers = pd.DataFrame({"customer_id": ["a"], "created_at": ["2024-06-01T07:30:00+08:00"]})
    features = customer_features(
        orders,
        EMPTY_EVENTS,
        EMPTY_INTERACTIONS,
        EMPTY_RESPONSES,
        as_of=date(2024, 6, 30),
        customers=customers,
        timezone=shanghai,
    )
    a = features.loc["a"]
    # The order stamped at 00:00 of 07-01 in Shanghai is not "as of 06-30"; the free order counts.
    assert (a["frequency"], a["monetary_total"]) == (2, 10.0)
    assert (a["recency_days"], a["tenure_days"]) == (9.0, 29.0)
    # Counted in UTC the same history would give 10 and 30 days.
    utc = customer_features(
        orders.iloc[:2], EMPTY_EVENTS, EMPTY_INTERACTIONS, EMPTY_RESPONSES, as_of=date(2024, 6, 30)
    )
    assert (utc.loc["a", "recency_days"], utc.loc["a", "tenure_days"]) == (10.0, 30.0)
