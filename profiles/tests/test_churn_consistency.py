"""Bands that agree with what staff see: a purchase yesterday is never high, a long silence never low."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from profiles.pipeline import PipelineInputs, run_pipeline
from profiles.pipeline.churn import BAND_RULES, CHURN_BANDS, band_measures, churn_bands
from profiles.pipeline.run import PipelineOutputs
from profiles.tests.churn_planted import AS_OF, frequent_buyers_orders


def _measures(recency: list[float], ratio: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"recency_days": recency, "silence_ratio": ratio})


def test_bands_follow_the_contract_thresholds() -> None:
    assert CHURN_BANDS == (("low", 0.0), ("medium", 0.3), ("high", 0.6))
    assert all(rule.reason for rule in BAND_RULES)
    bands = churn_bands([0.0, 0.29, 0.3, 0.59, 0.6, 1.0, np.nan], _measures([10] * 7, [1.0] * 7))
    assert bands.tolist() == ["low", "low", "medium", "medium", "high", "high", ""]


def test_a_purchase_within_the_last_day_caps_the_band_at_medium() -> None:
    bands = churn_bands([0.9, 0.9, 0.9, 0.1], _measures([0, 1, 2, 0], [0.0, 0.1, 0.2, 0.0]))
    assert bands.tolist() == ["medium", "medium", "high", "low"]


def test_silence_of_three_usual_gaps_raises_the_band_to_medium() -> None:
    bands = churn_bands([0.05, 0.05, 0.05, 0.8], _measures([30, 29, 30, 30], [3.0, 2.9, np.nan, 3.0]))
    assert bands.tolist() == ["medium", "low", "low", "high"]


def test_usual_gap_is_the_customers_mean_gap_or_the_population_median_for_one_off_buyers() -> None:
    features = pd.DataFrame({"recency_days": [30.0, 30.0, 30.0]}, index=["repeat", "once", "unknown"])
    history = pd.DataFrame(
        # 4 repeat purchase days over 40 days: a 10-day mean gap.
        {"model_frequency": [4.0, 0.0, 0.0], "model_recency_days": [40.0, 0.0, 0.0]},
        index=features.index,
    )
    measures = band_measures(features, history, median_gap_days=20.0)
    assert measures["silence_ratio"].tolist() == [3.0, 1.5, 1.5]
    measures = band_measures(features, history, median_gap_days=None)
    assert (
        measures["silence_ratio"].tolist()[0] == 3.0
        and measures["silence_ratio"].isna().tolist()[1:] == [True] * 2
    )


@pytest.fixture(scope="module")
def planted() -> tuple[PipelineOutputs, list[str], list[str]]:
    orders, silent, back = frequent_buyers_orders()
    return run_pipeline(PipelineInputs(orders=orders), as_of=AS_OF), silent, back


def test_no_customer_who_bought_yesterday_is_high_and_no_long_silent_one_is_low(
    planted: tuple[PipelineOutputs, list[str], list[str]],
) -> None:
    outputs, silent, back = planted
    profiles = outputs.profiles
    assert (profiles.loc[back, "recency_days"] == 1).all()
    assert not (profiles.loc[back, "churn_band"] == "high").any()
    assert (profiles.loc[profiles["recency_days"] <= 1, "churn_band"] != "high").all()
    # The planted regulars went quiet for 24 days against a usual gap of about 7: never "low", even
    # though for the regulars at large a silence that long is an ordinary break (the model says low).
    scored = profiles.loc[silent]
    assert (scored["churn_status"] == "scored").all()
    assert (scored["churn_probability"] < CHURN_BANDS[1][1]).any()
    assert (scored["churn_band"] != "low").all()
    history = profiles[["model_frequency", "model_recency_days", "model_age_days"]]
    measures = band_measures(profiles, history, median_gap_days=outputs.models.churn.median_gap_days)
    assert (profiles.loc[measures["silence_ratio"] >= 3, "churn_band"] != "low").all()
