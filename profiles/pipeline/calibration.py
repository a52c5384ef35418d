"""How far predicted probabilities can be trusted: proper scores, a reliability table and a calibrator.

Pure functions over arrays of 0/1 labels and probabilities (no pandas needed). The churn step uses them
to score the served probability and its baselines on the same held-out snapshot, and to calibrate the
gradient-boosting classifier (whose raw scores rank well but are not probabilities) with an isotonic
regression fitted on a fold of the training snapshots that the classifier did not see.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score

# Log loss of a probability of exactly 0 or 1 that turns out wrong is infinite; one such row would decide
# any comparison alone. 1e-6 caps a single certain miss at about 13.8 nats, which still punishes it hard.
LOG_LOSS_CLIP = 1e-6
# Ten equal-width bins: the resolution of the run page's reliability chart (one bar per 10 points).
RELIABILITY_BINS = 10


def _labels(labels: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(labels, dtype=np.float64)


def _probabilities(probabilities: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(probabilities, dtype=np.float64)


def brier_score(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean squared difference between the probability and the 0/1 outcome (0 is perfect, 0.25 a coin)."""
    y, p = _labels(labels), _probabilities(probabilities)
    if len(y) == 0:
        raise ValueError("brier_score needs at least one row")
    return float(np.mean((p - y) ** 2))


def log_loss(labels: ArrayLike, probabilities: ArrayLike, *, clip: float = LOG_LOSS_CLIP) -> float:
    """Mean negative log-likelihood of the outcomes in nats, probabilities clipped to [clip, 1 - clip]."""
    y, p = _labels(labels), np.clip(_probabilities(probabilities), clip, 1.0 - clip)
    if len(y) == 0:
        raise ValueError("log_loss needs at least one row")
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float | None:
    """Area under the ROC curve of `scores` for the positive label; None when only one class is present."""
    y = _labels(labels)
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, _probabilities(scores)))


def score_report(labels: ArrayLike, probabilities: ArrayLike) -> dict[str, float | None]:
    """{"roc_auc", "brier", "log_loss"} of `probabilities` (each None when there are no rows)."""
    y = _labels(labels)
    if len(y) == 0:
        return {"roc_auc": None, "brier": None, "log_loss": None}
    return {
        "roc_auc": roc_auc(y, probabilities),
        "brier": brier_score(y, probabilities),
        "log_loss": log_loss(y, probabilities),
    }


def reliability_table(
    labels: ArrayLike, probabilities: ArrayLike, *, bins: int = RELIABILITY_BINS
) -> list[dict[str, Any]]:
    """Predicted against observed rates in `bins` equal-width bins of the probability; empty bins left out.

    Each row: {"lower", "upper", "mean_predicted", "observed", "count"}. A bin holds lower <= p < upper;
    the last one also holds p == 1. A calibrated model has mean_predicted close to observed in every bin.
    """
    y, p = _labels(labels), np.clip(_probabilities(probabilities), 0.0, 1.0)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    return [
        {
            "lower": round(i / bins, 10),
            "upper": round((i + 1) / bins, 10),
            "mean_predicted": float(predicted[i] / counts[i]),
            "observed": float(observed[i] / counts[i]),
            "count": int(counts[i]),
        }
        for i in range(bins)
        if counts[i]
    ]


def fit_isotonic(
    scores: ArrayLike, labels: ArrayLike, *, floor: float = 0.0, ceiling: float = 1.0
) -> IsotonicRegression:
    """A non-decreasing map from score to observed rate, fitted on rows the scoring model did not train on.

    Scores outside the fitted range are clipped to its ends (out_of_bounds="clip"), and outputs stay in
    [floor, ceiling]. Picklable; apply with `.predict(scores)`.
    """
    calibrator = IsotonicRegression(y_min=floor, y_max=ceiling, increasing=True, out_of_bounds="clip")
    calibrator.fit(_probabilities(scores), _labels(labels))
    return calibrator
