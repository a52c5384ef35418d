"""The profiles bench records the run's model quality beside its timings (issue 14)."""

from bench.profiles import quality_lines

QUALITY = {
    "churn": {
        "window_days": 90,
        "served": "model",
        "calibration": "isotonic",
        "beats_baseline": True,
        "scores": {
            "model": {"roc_auc": 0.7712, "brier": 0.1834, "log_loss": 0.5421},
            "recency": {"roc_auc": 0.7011, "brier": None, "log_loss": 0.6},
        },
    },
    "evaluation": {
        "forecast": {
            "horizon_days": 90,
            "n_customers": 12000,
            "mae": {"model": 0.41, "same_rate": 0.52, "zero": 0.9},
            "beats_baseline": True,
            "served": "model",
        },
        "offers": None,
        "reason": "no holdout purchases",
    },
    "stability": {
        "compared": 99500,
        "new_customers": 500,
        "moved": {"churn_band": 0.0213, "rfm_segment": 0.004},
    },
}


def test_quality_lines_write_scores_evaluation_and_stability():
    lines = quality_lines(100_000, QUALITY)
    assert lines[1] == (
        "Churn scores at 100,000 (held-out snapshot, no purchase in 90 days; calibration isotonic; "
        "beats recency alone: yes):"
    )
    assert "| model (served) | 0.771 | 0.183 | 0.542 |" in lines
    assert "| recency | 0.701 | – | 0.600 |" in lines
    assert (
        "Forecast at 100,000: mean absolute error of purchases in 90 days over 12,000 customers: "
        "model 0.410, same rate 0.520, zero 0.900; served model."
    ) in lines
    assert not any(line.startswith("Next best offers") for line in lines)  # not evaluated: left out
    assert lines[-1] == (
        "Stability at 100,000 against the previous run: 99,500 customers compared, 500 new; moved: "
        "churn band 2.1%, RFM segment 0.4%, cluster – (target < 5% when < 1% of the data changed)."
    )


def test_a_run_without_quality_metrics_adds_no_lines():
    assert quality_lines(100_000, {}) == []
