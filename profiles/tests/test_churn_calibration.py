"""Calibration: proper scores by hand, the reliability table, and isotonic calibration fixing a known bias."""

from __future__ import annotations

import math

import numpy as np
import pytest

from profiles.pipeline.calibration import (
    brier_score,
    fit_isotonic,
    log_loss,
    reliability_table,
    roc_auc,
    score_report,
)
from profiles.pipeline.churn import bgnbd_no_purchase_probability
from profiles.pipeline.clv import BGNBDParams

LABELS = [1, 0, 1, 0]
PROBABILITIES = [0.9, 0.2, 0.6, 0.5]


def test_brier_score_of_four_rows_by_hand() -> None:
    # (0.1^2 + 0.2^2 + 0.4^2 + 0.5^2) / 4 = (0.01 + 0.04 + 0.16 + 0.25) / 4
    assert brier_score(LABELS, PROBABILITIES) == pytest.approx(0.115)


def test_log_loss_of_four_rows_by_hand() -> None:
    # -(ln 0.9 + ln 0.8 + ln 0.6 + ln 0.5) / 4 = (0.1053605 + 0.2231436 + 0.5108256 + 0.6931472) / 4
    assert log_loss(LABELS, PROBABILITIES) == pytest.approx(0.3831192, abs=1e-6)


def test_log_loss_clips_a_certain_miss_instead_of_going_infinite() -> None:
    # p = 1 for an outcome 0: clipped to 1 - 1e-6, so -ln(1e-6) = 13.8155.
    assert log_loss([0], [1.0]) == pytest.approx(13.815511, abs=1e-5)
    assert math.isfinite(log_loss([1, 0], [0.0, 1.0]))


def test_score_report_has_no_auc_for_one_class() -> None:
    report = score_report([1, 1], [0.2, 0.8])
    assert report["roc_auc"] is None and report["brier"] == pytest.approx((0.64 + 0.04) / 2)
    assert roc_auc(LABELS, PROBABILITIES) == 1.0


def test_reliability_table_by_hand_leaves_empty_bins_out() -> None:
    table = reliability_table([0, 1, 0, 1, 1], [0.05, 0.05, 0.15, 0.95, 1.0])
    assert table == [
        {"lower": 0.0, "upper": 0.1, "mean_predicted": pytest.approx(0.05), "observed": 0.5, "count": 2},
        {"lower": 0.1, "upper": 0.2, "mean_predicted": pytest.approx(0.15), "observed": 0.0, "count": 1},
        # p = 1.0 belongs to the last bin.
        {"lower": 0.9, "upper": 1.0, "mean_predicted": pytest.approx(0.975), "observed": 1.0, "count": 2},
    ]


def test_isotonic_calibration_fixes_a_known_miscalibration() -> None:
    """Scores s whose true rate is s^2 (an overconfident model): after an isotonic fit on a calibration
    sample, a fresh sample's reliability table has every bin within a few points of the diagonal."""
    rng = np.random.default_rng(0)

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        scores = rng.uniform(0, 1, n)
        return scores, rng.uniform(0, 1, n) < scores**2

    fit_scores, fit_labels = sample(20_000)
    test_scores, test_labels = sample(20_000)
    raw = reliability_table(test_labels, test_scores)
    # Uncalibrated, the 0.5-0.6 bin says 55% but about 30% happen ((0.6^3 - 0.5^3) / 3 / 0.1 = 30.3%).
    middle = next(row for row in raw if row["lower"] == 0.5)
    assert middle["observed"] == pytest.approx(0.303, abs=0.03)
    calibrator = fit_isotonic(fit_scores, fit_labels)
    calibrated = calibrator.predict(test_scores)
    table = reliability_table(test_labels, calibrated)
    assert max(abs(row["mean_predicted"] - row["observed"]) for row in table if row["count"] >= 200) < 0.04
    assert brier_score(test_labels, calibrated) < brier_score(test_labels, test_scores) - 0.02
    assert log_loss(test_labels, calibrated) < log_loss(test_labels, test_scores)
    # Out of the fitted range the calibrator clips to its ends rather than extrapolating.
    assert calibrator.predict([-5.0, 5.0]).tolist() == [
        calibrator.predict([0.0])[0],
        calibrator.predict([1.0])[0],
    ]


def test_bgnbd_probability_of_no_purchase_against_a_hand_computation() -> None:
    params = BGNBDParams(r=0.5, alpha=2.0, a=0.4, b=1.6)
    # x = 0: p_alive = 1, so P = ((alpha + T) / (alpha + T + t)) ** r = (8 / 10) ** 0.5 = 0.8944272.
    # x = 2, t_x = 4, T = 6: p_alive = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    #   = 1 / (1 + 0.4 / 2.6 * (8 / 6) ** 2.5) = 1 / (1 + 0.1538462 * 2.0528010) = 0.7599849;
    #   P = (1 - 0.7599849) + 0.7599849 * (8 / 10) ** 2.5 = 0.2400151 + 0.7599849 * 0.5724334 = 0.6750558.
    result = bgnbd_no_purchase_probability(params, 2.0, [0.0, 2.0], [0.0, 4.0], [6.0, 6.0])
    assert result.tolist() == pytest.approx([0.8944272, 0.6750558], abs=1e-6)
