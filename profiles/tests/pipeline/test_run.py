"""The whole pipeline: a realistic run, tiny runs, and refreshing one customer with stored models."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from profiles.pipeline import RFM_SEGMENTS, PipelineInputs, PipelineParams, run_pipeline, score_customer
from profiles.pipeline.run import PipelineOutputs, score_customers

from .synthetic import AS_OF, generate

PROFILE_COLUMNS = {
    "recency_days",
    "frequency",
    "monetary_total",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "probability_alive",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "expected_average_value",
    "clv",
    "churn_probability",
    "cluster",
    "cluster_name",
    "top_categories",
    "top_search_terms",
    "next_best_offers",
    "preferred_channel",
    "preferred_hour",
    "preferred_weekday",
    "age_band",
    "gender",
    "region",
}


@pytest.fixture(scope="module")
def data() -> dict:
    return generate(600, seed=11)


@pytest.fixture(scope="module")
def outputs(data: dict) -> PipelineOutputs:
    return run_pipeline(PipelineInputs(**data), as_of=AS_OF)


def test_run_pipeline_profiles_every_customer_with_every_column(outputs: PipelineOutputs, data: dict) -> None:
    profiles = outputs.profiles
    assert set(profiles.index) == set(data["customers"]["customer_id"])
    assert PROFILE_COLUMNS <= set(profiles.columns)
    assert profiles["rfm_segment"].dropna().isin(RFM_SEGMENTS).all()
    assert profiles["r_score"].between(1, 5).all()
    assert profiles["probability_alive"].dropna().between(0, 1).all() and (profiles["clv"] >= 0).all()
    # One-time buyers get no p_alive (BG/NBD would say 100% however long ago they bought).
    assert profiles.loc[profiles["frequency"] == 1, "probability_alive"].isna().all()
    assert profiles["churn_probability"].between(0, 1).all()
    assert profiles["next_best_offers"].map(len).max() <= 3
    assert outputs.warnings == []


def test_run_pipeline_reports_fits_metrics_counts_and_timings(outputs: PipelineOutputs) -> None:
    assert outputs.metrics["churn"]["roc_auc"] > 0.6
    assert outputs.metrics["bgnbd"]["r"] > 0 and outputs.metrics["gamma_gamma"]["q"] > 1
    assert outputs.metrics["clusters"]["k"] >= 2
    assert outputs.counts["customers"] == 600 and outputs.counts["buyers"] == 600
    assert outputs.counts["events_dropped"]["duplicates"] == 0
    assert {"clean", "features", "clv", "churn", "clusters", "rules", "score"} <= set(outputs.timings)
    # Synthetic baskets come from themes such as coffee + grinder, so those rules must be found.
    assert ((outputs.rules["antecedent"] == ("grinder",)) & (outputs.rules["consequent"] == "coffee")).any()


def test_run_pipeline_segments_cover_every_rfm_segment_and_cluster(outputs: PipelineOutputs) -> None:
    segments = outputs.segments
    rfm = segments[segments["kind"] == "rfm"]
    assert rfm["key"].tolist() == list(RFM_SEGMENTS)
    assert rfm["size"].sum() == outputs.profiles["rfm_segment"].notna().sum()
    clusters = segments[segments["kind"] == "cluster"]
    assert clusters["size"].sum() == len(outputs.profiles)
    assert clusters["name"].is_unique


def test_score_customer_with_pickled_models_reproduces_the_run_row(
    outputs: PipelineOutputs, data: dict
) -> None:
    models = pickle.loads(pickle.dumps(outputs.models))
    customer_id = outputs.profiles.index[17]
    row = score_customer(models, PipelineInputs(**data), customer_id=customer_id, as_of=AS_OF)
    expected = outputs.profiles.loc[[customer_id]]
    assert list(row.columns) == list(expected.columns)
    numbers = expected.select_dtypes("number").columns
    np.testing.assert_allclose(row[numbers].to_numpy(float), expected[numbers].to_numpy(float), rtol=1e-9)
    for column in ("rfm_segment", "cluster_name", "top_categories", "next_best_offers", "region"):
        assert row[column].iloc[0] == expected[column].iloc[0]


def test_score_customer_sees_a_new_order_immediately(outputs: PipelineOutputs, data: dict) -> None:
    customer_id = outputs.profiles.sort_values("recency_days").index[-1]
    before = outputs.profiles.loc[customer_id]
    new_order = pd.DataFrame(
        {
            "customer_id": [customer_id],
            "order_id": ["fresh"],
            "ordered_at": [AS_OF - pd.Timedelta(hours=1)],
            "category": ["books"],
            "amount": [500.0],
        }
    )
    inputs = PipelineInputs(**{**data, "orders": pd.concat([data["orders"], new_order], ignore_index=True)})
    after = score_customer(outputs.models, inputs, customer_id=customer_id, as_of=AS_OF).iloc[0]
    assert after["frequency"] == before["frequency"] + 1
    assert after["recency_days"] < 0.1
    assert after["r_score"] == 5
    assert after["churn_probability"] < before["churn_probability"]


def test_score_customer_of_an_unknown_customer_returns_an_empty_profile(outputs: PipelineOutputs) -> None:
    row = score_customer(outputs.models, PipelineInputs(), customer_id="nobody", as_of=AS_OF)
    assert row.index.tolist() == ["nobody"]
    assert row.iloc[0]["frequency"] == 0 and pd.isna(row.iloc[0]["rfm_segment"])
    assert row.iloc[0]["next_best_offers"] == []


def test_score_customers_in_chunks_matches_the_run(outputs: PipelineOutputs, data: dict) -> None:
    ids = list(outputs.profiles.index[:50])
    profiles, offers = score_customers(outputs.models, PipelineInputs(**data), as_of=AS_OF, customer_ids=ids)
    assert profiles.index.tolist() == ids
    pd.testing.assert_series_equal(profiles["clv"], outputs.profiles.loc[ids, "clv"])
    assert set(offers["customer_id"]) <= set(ids)


@pytest.mark.parametrize("n_customers", [0, 1, 3])
def test_run_pipeline_survives_tiny_inputs(n_customers: int) -> None:
    data = generate(n_customers, seed=5) if n_customers else {}
    outputs = run_pipeline(PipelineInputs(**data), as_of=AS_OF)
    assert len(outputs.profiles) == n_customers
    assert len(outputs.segments[outputs.segments["kind"] == "rfm"]) == len(RFM_SEGMENTS)
    if n_customers:
        assert any("CLV skipped" in warning for warning in outputs.warnings)
        assert outputs.profiles["clv"].isna().all()
        pickle.loads(pickle.dumps(outputs.models))


def test_run_pipeline_accepts_bare_empty_frames_decimals_and_naive_timestamps() -> None:
    from decimal import Decimal

    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_id": ["1", "2", "3"],
            "ordered_at": [
                pd.Timestamp("2024-01-01"),
                pd.Timestamp("2024-06-01"),
                pd.Timestamp("2024-03-01"),
            ],
            "category": ["tea", "cups", "tea"],
            "amount": [Decimal("12.50"), Decimal("3.10"), Decimal("8.00")],
        }
    )
    inputs = PipelineInputs(orders=orders, events=pd.DataFrame(), interactions=pd.DataFrame())
    outputs = run_pipeline(inputs, as_of="2024-07-01", params=PipelineParams(k_range=(2, 3)))
    assert outputs.profiles.loc["a", "monetary_total"] == pytest.approx(15.6)
    assert outputs.profiles.loc["a", "frequency"] == 2


def test_run_report_is_json_serialisable_for_the_profile_run_record(outputs: PipelineOutputs) -> None:
    report = {
        "params": outputs.models.params.as_dict(),
        "metrics": outputs.metrics,
        "counts": outputs.counts,
        "timings": outputs.timings,
        "segments": outputs.segments.to_dict("records"),
    }
    assert (
        json.loads(json.dumps(report))["metrics"]["churn"]["roc_auc"] == outputs.metrics["churn"]["roc_auc"]
    )


def test_clv_models_are_fitted_on_a_sample_of_a_large_population(
    data: dict, outputs: PipelineOutputs
) -> None:
    from profiles.pipeline.run import fit_models

    full = outputs.metrics["bgnbd"]
    sampled = fit_models(
        PipelineInputs(**data), as_of=AS_OF, params=PipelineParams(clv_fit_sample_size=400)
    ).metrics["bgnbd"]
    # A different sample gives different, but close, population parameters.
    assert sampled["r"] != full["r"]
    assert sampled["r"] == pytest.approx(full["r"], rel=0.35)
    assert sampled["alpha"] == pytest.approx(full["alpha"], rel=0.35)
    assert abs(sampled["log_likelihood"]) < abs(full["log_likelihood"])  # fewer customers' likelihood


def test_run_pipeline_records_each_fitted_model_with_its_data_likelihood_and_convergence(
    outputs: PipelineOutputs,
) -> None:
    models = outputs.metrics["models"]
    profiles = outputs.profiles
    bg, gg, churn = models["bgnbd"], models["gamma_gamma"], models["churn"]
    # BG/NBD is fitted on every buyer and counts repeat purchase *days*, exactly what profiles store.
    assert bg["n_customers"] == int(profiles["model_frequency"].notna().sum()) == 600
    assert bg["n_repeat_transactions"] == int(profiles["model_frequency"].sum())
    # Gamma-Gamma only sees repeat buyers.
    assert gg["n_customers"] == int((profiles["model_frequency"] > 0).sum())
    assert gg["n_repeat_transactions"] == bg["n_repeat_transactions"]
    for fit in (bg, gg):
        assert fit["converged"] is True and fit["log_likelihood"] < 0
        assert all(value > 0 for value in fit["standard_errors"].values())
        assert set(fit["standard_errors"]) == set(fit["params"])
    assert bg["params"]["r"] == outputs.metrics["bgnbd"]["r"]
    assert churn["n_customers"] > 0 and churn["n_snapshots"] >= churn["n_customers"]
    assert churn["n_repeat_transactions"] > 0
    assert churn["log_likelihood"] < 0 and isinstance(churn["converged"], bool)
    json.dumps(models)


def test_skipped_models_are_recorded_as_not_fitted() -> None:
    outputs = run_pipeline(PipelineInputs(**generate(3, seed=5)), as_of=AS_OF)
    assert outputs.metrics["models"] == {"bgnbd": None, "gamma_gamma": None, "churn": None}


def test_profiles_store_the_bgnbd_inputs_counted_in_server_time_zone_days() -> None:
    from datetime import date

    shanghai = [
        # 07:00 in Shanghai is 23:00 UTC the day before; 20:00 the same day is the same Shanghai day.
        ("a", "1", "1999-12-30 07:00+08:00"),
        ("a", "2", "1999-12-30 20:00+08:00"),
        ("a", "3", "2000-01-05 07:00+08:00"),
        ("a", "4", "2000-01-11 00:00+08:00"),  # the day after the as-of day: not in the history
        ("b", "5", "1999-12-31 23:30+08:00"),
    ]
    orders = pd.DataFrame(shanghai, columns=["customer_id", "order_id", "ordered_at"]).assign(amount=10.0)
    outputs = run_pipeline(
        PipelineInputs(orders=orders),
        as_of=date(2000, 1, 10),
        params=PipelineParams(k_range=(2, 3), timezone="Asia/Shanghai"),
    )
    profiles = outputs.profiles
    # Repeat purchase days = distinct Shanghai purchase days - 1; recency = first to last purchase day;
    # age T = first purchase day to the as-of day (all of 2000-01-10 in Shanghai).
    assert profiles.loc["a", ["model_frequency", "model_recency_days", "model_age_days"]].tolist() == [
        1,
        6,
        11,
    ]
    assert profiles.loc["b", ["model_frequency", "model_recency_days", "model_age_days"]].tolist() == [
        0,
        0,
        10,
    ]


def test_every_configured_forecast_horizon_gets_expected_purchases_and_spend(data: dict) -> None:
    outputs = run_pipeline(
        PipelineInputs(**data), as_of=AS_OF, params=PipelineParams(expected_purchases_days=(30, 180))
    )
    profiles = outputs.profiles
    # The chosen horizons are added to the 90 and 365 days the profile columns always hold.
    for days in (30, 90, 180, 365):
        assert profiles[f"expected_purchases_{days}d"].notna().all()
    assert (profiles["expected_purchases_30d"] <= profiles["expected_purchases_90d"]).all()
    assert (profiles["expected_purchases_90d"] < profiles["expected_purchases_180d"]).all()
    assert (profiles["expected_purchases_180d"] < profiles["expected_purchases_365d"]).all()
    np.testing.assert_allclose(
        profiles["expected_spend_180d"],
        profiles["expected_purchases_180d"] * profiles["expected_average_value"],
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("90,365,30", (30, 90, 365)), (["365", " 90 ", "90"], (90, 365)), ((7,), (7,))],
)
def test_forecast_horizons_setting_is_parsed(value: object, expected: tuple[int, ...]) -> None:
    from profiles.pipeline.scoring import parse_forecast_horizons

    assert parse_forecast_horizons(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("90,soon", "'soon' is not a whole number"), ("0", "between 1 and 3650"), ("", "at least one")],
)
def test_forecast_horizons_setting_names_what_is_wrong(value: str, message: str) -> None:
    from profiles.pipeline.scoring import parse_forecast_horizons

    with pytest.raises(ValueError, match=f"PROFILES_FORECAST_HORIZONS: .*{message}"):
        parse_forecast_horizons(value)
