"""The served churn answer: model or BG/NBD by held-out log loss, the too-new rule, and its explanation."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest

from profiles.pipeline import PipelineInputs, run_pipeline, score_customer
from profiles.pipeline.churn import predict_churn
from profiles.pipeline.run import PipelineOutputs
from profiles.tests.churn_planted import AS_OF, orders_frame, spend_driven_orders
from profiles.tests.pipeline.synthetic import AS_OF as SYNTHETIC_AS_OF
from profiles.tests.pipeline.synthetic import generate

CHURN_COLUMNS = ("churn_probability", "churn_status", "churn_band", "churn_factors")
SPEND = ("monetary_avg", "monetary_total", "spend_90d")


def _newcomers() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers at the edge of the too-new rule (window 90 days; the as-of day is 2025-12-31)."""
    day = pd.Timedelta(days=1)
    orders = orders_frame(
        [
            ("first-bought-90-days-ago", AS_OF - 91 * day + pd.Timedelta(hours=12), 20.0),
            ("first-bought-89-days-ago", AS_OF - 90 * day + pd.Timedelta(hours=12), 20.0),
            ("new-twice", AS_OF - 30 * day, 20.0),
            ("new-twice", AS_OF - 10 * day, 20.0),
            ("old-account-first-order", AS_OF - 10 * day, 20.0),
        ]
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["prospect", "old-account-first-order"],
            "created_at": [AS_OF - 400 * day, AS_OF - 700 * day],
        }
    )
    return orders, customers


@pytest.fixture(scope="module")
def spend_inputs() -> PipelineInputs:
    orders, customers = _newcomers()
    # Shifted ids keep the newcomers' order ids apart from the planted history's.
    orders["order_id"] = "n" + orders["order_id"]
    return PipelineInputs(
        orders=pd.concat([spend_driven_orders(), orders], ignore_index=True), customers=customers
    )


@pytest.fixture(scope="module")
def spend_run(spend_inputs: PipelineInputs) -> PipelineOutputs:
    return run_pipeline(spend_inputs, as_of=AS_OF)


@pytest.fixture(scope="module")
def rhythm_run() -> PipelineOutputs:
    return run_pipeline(PipelineInputs(**generate(600, seed=11)), as_of=SYNTHETIC_AS_OF)


def test_the_model_is_served_when_spend_drives_churn_bgnbd_cannot_see(spend_run: PipelineOutputs) -> None:
    churn = spend_run.metrics["churn"]
    scores = churn["scores"]
    assert churn["window_days"] == 90 and churn["calibration"] == "isotonic"
    assert scores["model"]["log_loss"] < scores["bgnbd"]["log_loss"]
    assert churn["served"] == "model" and spend_run.models.churn.served == "model"
    assert churn["beats_baseline"] is True
    assert (
        scores["model"]["roc_auc"] > scores["recency"]["roc_auc"] > scores["overall_rate"]["roc_auc"] == 0.5
    )
    # The existing keys still describe the classifier.
    assert churn["roc_auc"] == scores["model"]["roc_auc"]
    # Raw days since the last purchase; on this data the isotonic fit, pooling its inversions, ranks better.
    assert churn["roc_auc_recency_baseline"] <= scores["recency"]["roc_auc"]
    # The overall rate is the training churn rate as a constant.
    assert scores["overall_rate"]["brier"] == pytest.approx(
        churn["churn_rate_test"] * (1 - churn["churn_rate_train"]) ** 2
        + (1 - churn["churn_rate_test"]) * churn["churn_rate_train"] ** 2
    )


def test_bgnbd_is_served_when_it_wins_by_log_loss(rhythm_run: PipelineOutputs) -> None:
    """Purchases drawn from a BG/NBD-like process: BG/NBD's implied churn beats the classifier."""
    churn = rhythm_run.metrics["churn"]
    scores = churn["scores"]
    assert scores["bgnbd"]["log_loss"] < scores["model"]["log_loss"]
    assert churn["served"] == "bgnbd" and churn["beats_baseline"] is True
    profiles = rhythm_run.profiles
    scored = profiles[profiles["churn_status"] == "scored"]
    # Served from the run's BG/NBD fit: one story with probability alive on the same card.
    bg = rhythm_run.models.bgnbd
    unit = rhythm_run.models.params.time_unit_days
    x = scored["model_frequency"].to_numpy()
    big_t = scored["model_age_days"].to_numpy() / unit
    window = churn["window_days"] / unit
    alive = np.where(x > 0, scored["probability_alive"].fillna(1.0).to_numpy(), 1.0)
    expected = (1 - alive) + alive * ((bg.alpha + big_t) / (bg.alpha + big_t + window)) ** (bg.r + x)
    np.testing.assert_allclose(scored["churn_probability"].to_numpy(), expected, rtol=1e-6)
    assert {f["feature"] for row in scored["churn_factors"] for f in row} <= {
        "recency_days",
        "model_frequency",
        "model_age_days",
    }


def test_run_metrics_follow_the_contract(spend_run: PipelineOutputs) -> None:
    churn = json.loads(json.dumps(spend_run.metrics["churn"]))
    assert set(churn["scores"]) == {"model", "bgnbd", "recency", "overall_rate"}
    for score in churn["scores"].values():
        assert set(score) == {"roc_auc", "brier", "log_loss"}
    table = churn["reliability"]
    assert sum(row["count"] for row in table) == churn["n_test"]
    assert all(row["lower"] < row["upper"] and row["count"] > 0 for row in table)
    importances = [row["importance"] for row in churn["importances"]]
    assert importances == sorted(importances, reverse=True)
    # The planted driver leads the permutation importances too.
    assert churn["importances"][0]["feature"] in SPEND


def test_customers_too_new_or_who_never_bought_are_not_scored(spend_run: PipelineOutputs) -> None:
    profiles = spend_run.profiles
    status = profiles["churn_status"]
    assert status["prospect"] == "never_bought"
    # Counted from the first purchase, not the account: an account of 700 days with a first order 10 days
    # ago is too new to tell.
    for customer in ("first-bought-89-days-ago", "new-twice", "old-account-first-order"):
        assert status[customer] == "too_new", customer
    assert status["first-bought-90-days-ago"] == "scored"
    unscored = profiles[status != "scored"]
    assert unscored["churn_probability"].isna().all()
    assert (unscored["churn_band"] == "").all() and (unscored["churn_factors"].map(len) == 0).all()
    scored = profiles[status == "scored"]
    assert scored["churn_probability"].between(0.01, 0.99).all()
    assert scored["churn_band"].isin(["low", "medium", "high"]).all()


def test_the_planted_driver_is_the_top_factor(spend_run: PipelineOutputs) -> None:
    """Big spenders who bought in the last week: the spend is what raises their risk above typical."""
    profiles = spend_run.profiles
    active_big = profiles[profiles.index.str.startswith("big-") & (profiles["recency_days"] <= 7)]
    assert len(active_big) >= 10
    tops = active_big["churn_factors"].map(lambda factors: factors[0] if factors else None)
    spend_first = tops.map(lambda top: top is not None and top["feature"] in SPEND and top["effect"] > 0)
    assert spend_first.mean() >= 0.8
    top = tops[spend_first].iloc[0]
    assert top["value"] > top["typical"]
    assert top["typical"] == pytest.approx(spend_run.models.churn.typical[top["feature"]], abs=1e-4)
    for factors in profiles["churn_factors"]:
        assert len(factors) <= 3
        effects = [abs(f["effect"]) for f in factors]
        assert effects == sorted(effects, reverse=True)


def test_effects_add_up_from_the_typical_value(spend_run: PipelineOutputs) -> None:
    """A factor's effect is the served probability minus the one with that feature at its typical value."""
    customer = spend_run.profiles[spend_run.profiles["churn_status"] == "scored"].index[0]
    row = spend_run.profiles.loc[customer]
    factor = row["churn_factors"][0]
    model = spend_run.models.churn
    features = spend_run.profiles.loc[[customer], list(model.feature_names)].copy()
    features[factor["feature"]] = factor["typical"]
    moved = float(predict_churn(model, features).iloc[0])
    assert row["churn_probability"] - moved == pytest.approx(factor["effect"], abs=1e-4)


def test_refreshing_one_customer_gives_the_run_answer(
    spend_run: PipelineOutputs, spend_inputs: PipelineInputs, rhythm_run: PipelineOutputs
) -> None:
    models = pickle.loads(pickle.dumps(spend_run.models))
    for customer in ("big-0", "small-1", "new-twice", "prospect"):
        row = score_customer(models, spend_inputs, customer_id=customer, as_of=AS_OF).iloc[0]
        expected = spend_run.profiles.loc[customer]
        for column in CHURN_COLUMNS:
            if isinstance(expected[column], float) and math.isnan(expected[column]):
                assert math.isnan(row[column]), (customer, column)
            else:
                assert row[column] == expected[column], (customer, column)
    data = generate(600, seed=11)
    customer = rhythm_run.profiles.index[5]
    row = score_customer(
        rhythm_run.models, PipelineInputs(**data), customer_id=customer, as_of=SYNTHETIC_AS_OF
    )
    assert row.iloc[0]["churn_factors"] == rhythm_run.profiles.loc[customer, "churn_factors"]
    assert row.iloc[0]["churn_probability"] == pytest.approx(
        rhythm_run.profiles.loc[customer, "churn_probability"]
    )


def test_one_snapshot_holds_out_customers_when_there_are_enough():
    """A history shorter than three churn windows leaves one labelled snapshot: its customers are split
    (a salted hash of the id, 30% held out) so the run still has scores; too few rows give none."""
    from profiles.pipeline.churn import CUSTOMER_HOLDOUT_MIN_ROWS, held_out_split

    ids = [f"c{i:05d}" for i in range(2_000)]
    frame = pd.DataFrame(
        {"customer_id": ids, "cutoff": pd.Timestamp("2025-01-01", tz="UTC"), "churned": False}
    )
    train, test, holdout = held_out_split(frame, [frame["cutoff"].iloc[0]])
    assert holdout == "customers"
    assert set(train["customer_id"]).isdisjoint(test["customer_id"])
    assert len(train) + len(test) == len(frame)
    assert 0.25 < len(test) / len(frame) < 0.35
    # The same customers every time (a hash, not a random draw).
    assert list(held_out_split(frame, [frame["cutoff"].iloc[0]])[1]["customer_id"]) == list(
        test["customer_id"]
    )
    small = frame.head(CUSTOMER_HOLDOUT_MIN_ROWS - 1)
    assert held_out_split(small, [small["cutoff"].iloc[0]]) is None
    two = pd.concat([frame.assign(cutoff=pd.Timestamp("2024-07-01", tz="UTC")), frame])
    train, test, holdout = held_out_split(two, sorted(two["cutoff"].unique()))
    assert holdout == "period" and (test["cutoff"] == pd.Timestamp("2025-01-01", tz="UTC")).all()


def test_a_one_off_buyer_is_not_explained_by_having_no_repeats(rhythm_run: PipelineOutputs) -> None:
    """BG/NBD served: its "no repeat purchase yet" keeps a customer alive, which must not read as
    "no repeats lowers the risk" on the card of a one-off buyer."""
    profiles = rhythm_run.profiles
    assert rhythm_run.metrics["churn"]["served"] == "bgnbd"
    one_off = profiles[(profiles["churn_status"] == "scored") & (profiles["model_frequency"] == 0)]
    repeaters = profiles[(profiles["churn_status"] == "scored") & (profiles["model_frequency"] > 0)]
    assert len(one_off) and len(repeaters)
    assert all(f["feature"] != "model_frequency" for factors in one_off["churn_factors"] for f in factors)
    assert any(f["feature"] == "model_frequency" for factors in repeaters["churn_factors"] for f in factors)
