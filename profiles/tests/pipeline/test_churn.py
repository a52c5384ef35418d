"""Churn: labels from the next horizon, a held-out later period for the AUC, a picklable model."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from profiles.pipeline.churn import churn_training_frame, predict_churn, train_churn_model
from profiles.pipeline.features import customer_features

from .synthetic import AS_OF, generate

NO_EVENTS = pd.DataFrame(columns=["customer_id", "event_type", "occurred_at"])


def _orders(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [customer for customer, _ in rows],
            "order_id": [str(i) for i in range(len(rows))],
            "ordered_at": pd.to_datetime([day for _, day in rows], utc=True),
            "amount": 10.0,
        }
    )


@pytest.fixture(scope="module")
def synthetic() -> dict:
    return generate(800, seed=3)


def test_churn_training_frame_labels_customers_without_a_purchase_in_the_horizon() -> None:
    orders = _orders(
        [
            ("stays", "2024-01-10"),
            ("stays", "2024-02-15"),
            ("leaves", "2024-01-05"),
            ("late", "2024-01-20"),
            ("late", "2024-05-01"),
            ("newcomer", "2024-02-10"),
        ]
    )
    frame = churn_training_frame(orders, NO_EVENTS, cutoff="2024-02-01", horizon_days=60)
    labels = frame.set_index("customer_id")["churned"].to_dict()
    # The newcomer had not bought by the cutoff, so is not in the population at all.
    assert labels == {"late": True, "leaves": True, "stays": False}
    assert frame["frequency"].min() == 1
    assert frame.attrs["horizon_days"] == 60


def test_churn_training_frame_stacks_one_snapshot_per_cutoff() -> None:
    orders = _orders([("a", "2024-01-10"), ("a", "2024-03-15"), ("b", "2024-01-05")])
    frame = churn_training_frame(orders, NO_EVENTS, cutoff=["2024-03-01", "2024-02-01"], horizon_days=30)
    assert (
        frame["cutoff"].tolist()
        == [pd.Timestamp("2024-02-01", tz="UTC")] * 2 + [pd.Timestamp("2024-03-01", tz="UTC")] * 2
    )
    assert frame.loc[frame["cutoff"] == frame["cutoff"].max()].set_index("customer_id")[
        "churned"
    ].to_dict() == {
        "a": False,
        "b": True,
    }


def test_train_churn_model_reports_auc_on_the_later_held_out_period(synthetic: dict) -> None:
    horizon = 90
    cutoffs = [AS_OF - pd.Timedelta(days=2 * horizon), AS_OF - pd.Timedelta(days=horizon)]
    frame = churn_training_frame(
        synthetic["orders"], synthetic["events"], cutoff=cutoffs, horizon_days=horizon
    )
    model, metrics = train_churn_model(frame)
    assert metrics["auc_reason"] is None
    assert metrics["roc_auc"] > 0.7
    assert metrics["n_test"] == int((frame["cutoff"] == cutoffs[1]).sum())
    assert metrics["n_train"] + metrics["n_test"] == len(frame)
    assert model.horizon_days == horizon


def test_train_churn_model_without_a_later_period_reports_why_there_is_no_auc() -> None:
    orders = _orders([("a", "2024-01-10"), ("a", "2024-02-15"), ("b", "2024-01-05")])
    frame = churn_training_frame(orders, NO_EVENTS, cutoff="2024-02-01", horizon_days=60)
    model, metrics = train_churn_model(frame)
    assert metrics["roc_auc"] is None and "snapshot" in metrics["auc_reason"]
    features = customer_features(orders, NO_EVENTS, pd.DataFrame(), pd.DataFrame(), as_of="2024-03-01")
    assert predict_churn(model, features).between(0, 1).all()


def test_train_churn_model_with_a_single_class_predicts_that_class_rate() -> None:
    orders = _orders([("a", "2024-01-10"), ("a", "2024-02-15"), ("b", "2024-01-05"), ("b", "2024-03-05")])
    frame = churn_training_frame(orders, NO_EVENTS, cutoff=["2024-01-20", "2024-02-01"], horizon_days=60)
    model, metrics = train_churn_model(frame)
    assert metrics["roc_auc"] is None and "single class" in metrics["auc_reason"]
    assert model.estimator is None and model.constant == 0.0
    features = customer_features(orders, NO_EVENTS, pd.DataFrame(), pd.DataFrame(), as_of="2024-03-10")
    assert predict_churn(model, features).tolist() == [0.0, 0.0]


def test_predict_churn_is_missing_for_customers_who_never_bought_and_survives_pickling(
    synthetic: dict,
) -> None:
    frame = churn_training_frame(
        synthetic["orders"], synthetic["events"], cutoff=[AS_OF - pd.Timedelta(days=90)], horizon_days=90
    )
    model, _ = train_churn_model(frame)
    restored = pickle.loads(pickle.dumps(model))
    # Signed up the day before: as_of is an exclusive cutoff, so a sign-up stamped at it is not yet in.
    prospects = pd.DataFrame({"customer_id": ["p1"], "created_at": [AS_OF - pd.Timedelta(days=1)]})
    features = customer_features(
        synthetic["orders"],
        synthetic["events"],
        pd.DataFrame(),
        pd.DataFrame(),
        as_of=AS_OF,
        customers=prospects,
    )
    original = predict_churn(model, features)
    again = predict_churn(restored, features)
    assert np.isnan(again["p1"])
    pd.testing.assert_series_equal(original, again)
    # Customers who bought in the last month are, on average, judged less likely to churn.
    recent = features["recency_days"] < 30
    assert again[recent].mean() < again[~recent & (features["frequency"] > 0)].mean()


def test_churn_training_frame_of_no_orders_is_empty_and_trains_a_constant_model() -> None:
    frame = churn_training_frame(_orders([]), NO_EVENTS, cutoff="2024-02-01", horizon_days=30)
    model, metrics = train_churn_model(frame)
    assert frame.empty and metrics["roc_auc"] is None
    assert model.estimator is None


def _rhythm_orders(seed: int = 7) -> pd.DataFrame:
    """Regulars buy every ~100 days for three years; lapsed buyers did the same but stopped a year ago.

    Their events grow over time (tracking started late), the drift that once made today's most active
    buyers look like churners.
    """
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp("2026-01-01", tz="UTC")
    rows = []
    for n in range(300):
        kind = ("regular", "lapsed", "once")[n % 3]
        stop = 0 if kind == "regular" else 365 + rng.integers(0, 200)
        day = 1_095 - rng.integers(0, 60)
        while day > stop:
            rows.append((f"{kind}-{n}", as_of - pd.Timedelta(days=int(day))))
            if kind == "once":
                break
            day -= int(rng.integers(60, 140))
    return pd.DataFrame(
        {
            "customer_id": [c for c, _ in rows],
            "order_id": [str(i) for i in range(len(rows))],
            "ordered_at": [t for _, t in rows],
            "amount": 20.0,
        }
    ), as_of


def test_recent_frequent_buyers_score_lower_churn_than_lapsed_ones() -> None:
    from profiles.pipeline.run import PipelineInputs, run_pipeline

    orders, as_of = _rhythm_orders()
    events = pd.DataFrame(
        {
            "customer_id": orders["customer_id"],
            "event_type": "page_view",
            # Events only in the last 60 days, as when tracking starts after the order history.
            "occurred_at": as_of - pd.to_timedelta(np.arange(len(orders)) % 60, unit="D"),
        }
    )
    out = run_pipeline(PipelineInputs(orders=orders, events=events), as_of=as_of)
    risk = out.profiles["churn_probability"]
    kind = risk.index.str.split("-").str[0]
    regular, lapsed = risk[kind == "regular"], risk[kind == "lapsed"]
    assert regular.mean() < 0.4 < 0.6 < lapsed.mean()
    assert (regular.median() + 0.3) < lapsed.median()
    # BG/NBD agrees on the ordering.
    alive = out.profiles["probability_alive"]
    assert alive[kind == "regular"].mean() > alive[kind == "lapsed"].mean()
    assert out.profiles["expected_purchases_365d"].notna().all()


def test_churn_horizon_follows_the_purchase_rhythm() -> None:
    from profiles.pipeline.churn import churn_horizon

    orders, _ = _rhythm_orders()
    assert 120 <= churn_horizon(orders, minimum_days=90) <= 180
    assert churn_horizon(orders.head(3), minimum_days=90) == 90
