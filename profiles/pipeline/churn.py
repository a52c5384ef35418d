"""Churn risk: P(no purchase in the next `horizon_days`), checked on a later period against baselines.

Training rows are customer snapshots: features as of a cutoff, labelled by whether the customer
bought in [cutoff, cutoff + horizon) (a cutoff is exclusive: features see what is before it).
With snapshots at two or more cutoffs the latest one is held out, so the reported scores measure
what the model will face in production: predicting a period it has not seen. The served model is
then refitted on every snapshot so it knows the latest behaviour.
Only customers who had bought before the cutoff are in the population: churn presumes a purchase.

The classifier's raw scores rank customers well but are not probabilities, so it is calibrated: the
training customers are split into a fitting fold and a calibration fold (by customer, so no customer's
later snapshot leaks into the other fold) and an isotonic map from score to observed churn rate is fitted
on the calibration fold. The served churn model is the classifier plus that calibrator.

Four answers are scored on the same held-out snapshot (ROC AUC, Brier score, log loss; see
`calibration`): the calibrated model; the churn BG/NBD implies, P(no purchase in the window) from a
BG/NBD fitted on the orders before the held-out cutoff; recency alone (days since the last purchase
through an isotonic fit on the training snapshots, so it is a probability too); and the overall
training churn rate as a constant. The better of model and BG/NBD by log loss is served; when its AUC
does not beat recency alone, recency is served instead and the run records beats_baseline False.
The purchase-history model without the contact features of the sessions log is measured too (what
the contacts add).

What the card shows is decided here as well: the status rule (never bought, too new to tell, scored),
the bands CHURN_BANDS with the consistency rules BAND_RULES applied after the thresholds, and the top
factors behind each scored probability (`explain`).

The gradient-boosting model runs single-threaded: its OpenMP threads fight the web and Celery
processes for the same cores, and on a loaded 2-core machine that made a 1,500-row fit 25x slower.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from .calibration import fit_isotonic, reliability_table, roc_auc, score_report
from .clv import BGNBDParams, probability_alive, rfm_summary
from .explain import Predict, factor_effects, permutation_importances, top_factors, typical_values
from .features import PURCHASE_FEATURES, customer_features, model_matrix
from .frames import as_of_day, as_utc_timestamp, conform, local_days
from .interactions import INTERACTION_FEATURES

# Purchase history and the contact features, no behaviour events. Event counts drift between a snapshot
# months ago and today (event tracking starts later than order history, and event volume grows), so a
# model trained on old snapshots learned "has events -> churned" and scored today's active champions at
# 99% risk. Contacts can drift the same way (a sessions log started last month), so they are rates and
# recencies rather than totals, and the served model keeps them only when they do not lower the held-out
# AUC (see train_churn_model).
CHURN_FEATURES = (*PURCHASE_FEATURES, *INTERACTION_FEATURES)
# Domain knowledge the trees must respect, so small samples cannot invert it: a longer time since the
# last purchase never lowers the risk, more orders (ever, or lately) never raise it.
MONOTONIC = {"recency_days": 1, "frequency": -1, "orders_90d": -1}

# Share of the training customers held out of the classifier's fit to calibrate it: isotonic regression
# needs a few hundred rows per step to be smooth, and the classifier keeps 70% of the rows to learn from.
CALIBRATION_SHARE = 0.3
# Below this many calibration rows isotonic regression is a handful of noisy steps that make things
# worse than the raw scores; the classifier is then fitted on every row and served uncalibrated.
MIN_CALIBRATION_ROWS = 50
# A churn risk of exactly 0% or 100% is a certainty no finite sample supports (and an infinite log loss
# when wrong); calibrated probabilities stay within 1 point of either end, below what the card rounds to.
CALIBRATED_RANGE = (0.01, 0.99)

# The inputs BG/NBD sees, as the profile columns store them (days): days since the last purchase day,
# repeat purchase days and days since the first purchase day. The bgnbd and recency variants are
# explained with these.
BGNBD_INPUTS = ("recency_days", "model_frequency", "model_age_days")
RECENCY_INPUTS = ("recency_days",)

Served = Literal["model", "bgnbd", "recency"]

# Lower edges of the bands, ascending; the customer card paints >= 0.6 red and >= 0.3 amber.
CHURN_BANDS: tuple[tuple[str, float], ...] = (("low", 0.0), ("medium", 0.3), ("high", 0.6))
STATUSES = ("scored", "too_new", "never_bought")


@dataclass(frozen=True)
class BandRule:
    """A consistency rule applied after the band thresholds: when minimum <= measure <= maximum, the band
    is at most (or at least) `band`. `measure` is a column of `band_measures`."""

    name: str
    measure: str
    minimum: float
    maximum: float
    band: str
    limit: Literal["at_most", "at_least"]
    reason: str


BAND_RULES: tuple[BandRule, ...] = (
    BandRule(
        name="bought_recently",
        measure="recency_days",
        minimum=0.0,
        # Today or yesterday (recency_days counts calendar days from the last purchase day to the as-of day).
        maximum=1.0,
        band="medium",
        limit="at_most",
        reason=(
            "a purchase within the last day is the plainest sign a customer is still buying; showing them in "
            "red contradicts what the salesperson sees on the order list"
        ),
    ),
    BandRule(
        name="long_silence",
        measure="silence_ratio",
        # Three usual gaps without a purchase: a regular customer missing two expected purchases in a row.
        minimum=3.0,
        maximum=math.inf,
        band="medium",
        limit="at_least",
        reason=(
            "silent for three times their usual gap between purchases is a lapse by the customer's own "
            "rhythm, whatever the population-level model says; it must not be shown as safe"
        ),
    ),
)


@dataclass
class ChurnModel:
    """The served churn answer, picklable: a classifier (or a constant rate when training saw only one
    class) with its isotonic calibrator, the recency-alone calibrator, the run's BG/NBD parameters, which
    of the three is served, and the population's typical values and usual gap that explain and band it.

    New fields default to None so models pickled before them still load (and serve the model).
    """

    estimator: HistGradientBoostingClassifier | None
    constant: float | None
    horizon_days: int
    feature_names: tuple[str, ...] = CHURN_FEATURES
    calibrator: IsotonicRegression | None = None
    served: Served = "model"
    recency_calibrator: IsotonicRegression | None = None
    bgnbd: BGNBDParams | None = None
    time_unit_days: float = 7.0
    # Population medians of every input of every variant over the customers scored in the run.
    typical: Mapping[str, float] | None = None
    # The population's median gap between purchase days (repeat buyers' mean gaps), for one-off buyers.
    median_gap_days: float | None = None


@dataclass(frozen=True)
class BGNBDEvidence:
    """BG/NBD for the churn comparison: `held_out` is fitted on the orders before the held-out cutoff and
    `history` holds each held-out customer's inputs then (bgnbd_history columns); `served` is the run's
    fit, the one scoring uses if BG/NBD wins. Parameters are in periods of `time_unit_days` days."""

    held_out: BGNBDParams | None
    history: pd.DataFrame
    served: BGNBDParams | None
    time_unit_days: float = 7.0


def churn_training_frame(
    orders: pd.DataFrame,
    events: pd.DataFrame,
    *,
    cutoff: object | Iterable[object],
    horizon_days: int,
    interactions: pd.DataFrame | None = None,
    campaign_responses: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    timezone: str = "UTC",
) -> pd.DataFrame:
    """Labelled snapshots: features as of each cutoff plus `churned` (no order in the next horizon_days).

    Columns: customer_id, cutoff, every customer_features column, churned (bool). `cutoff` may be one
    moment or several; labels need order data up to the last cutoff + horizon_days.
    """
    cutoffs = (
        [cutoff] if isinstance(cutoff, (str, pd.Timestamp)) or not isinstance(cutoff, Iterable) else cutoff
    )
    orders = conform(orders, "orders")
    frames = []
    for moment in sorted(as_utc_timestamp(c) for c in cutoffs):
        features = customer_features(
            orders,
            events,
            conform(interactions, "interactions"),
            conform(campaign_responses, "campaign_responses"),
            as_of=moment,
            customers=customers,
            timezone=timezone,
        )
        features = features[features["frequency"] > 0]
        # Cutoffs are exclusive (features see what is before the moment): the label window starts there.
        window = orders["ordered_at"].ge(moment) & orders["ordered_at"].lt(
            moment + pd.Timedelta(days=horizon_days)
        )
        returning = pd.Index(orders.loc[window, "customer_id"].dropna().unique())
        frames.append(features.assign(cutoff=moment, churned=~features.index.isin(returning)).reset_index())
    if not frames:
        raise ValueError("churn_training_frame needs at least one cutoff")
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[
        ["customer_id", "cutoff", *[c for c in frame.columns if c not in ("customer_id", "cutoff")]]
    ]
    frame.attrs["horizon_days"] = horizon_days
    return frame


def judgeable_snapshots(frame: pd.DataFrame, *, horizon_days: int, timezone: str = "UTC") -> pd.DataFrame:
    """The snapshots of customers whose first purchase was at least `horizon_days` before the cutoff.

    The same too-new rule as scoring (`churn_status`), so the model is fitted and scored on the population
    it will be served to.
    """
    if frame.empty:
        return frame
    days = np.empty(len(frame))
    for moment in frame["cutoff"].unique():
        rows = (frame["cutoff"] == moment).to_numpy()
        first = local_days(frame.loc[rows, "first_purchase_at"], timezone)
        days[rows] = as_of_day(pd.Timestamp(moment), timezone) - first
    kept = frame[days >= horizon_days]
    kept.attrs.update(frame.attrs)
    return kept


def bgnbd_history(
    orders: pd.DataFrame, *, as_of: object, time_unit_days: float = 7.0, timezone: str = "UTC"
) -> pd.DataFrame:
    """Per buyer the BG/NBD inputs in days, as the profile columns store them: model_frequency (repeat
    purchase days), model_recency_days (first to last purchase day) and model_age_days (first purchase
    day to the as-of day)."""
    summary = rfm_summary(orders, as_of=as_of, time_unit_days=time_unit_days, timezone=timezone)
    return history_from_summary(summary, time_unit_days=time_unit_days)


def history_from_summary(summary: pd.DataFrame, *, time_unit_days: float) -> pd.DataFrame:
    """bgnbd_history's columns from an `rfm_summary` frame (periods of `time_unit_days` days)."""
    return pd.DataFrame(
        {
            "model_frequency": summary["frequency"],
            "model_recency_days": summary["recency"] * time_unit_days,
            "model_age_days": summary["T"] * time_unit_days,
        },
        index=summary.index,
    )


def bgnbd_no_purchase_probability(
    params: BGNBDParams, window: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """P(no purchase in (T, T + window]) under BG/NBD, all times in the model's periods.

    A customer who has dropped out never buys again; one still alive, with posterior purchase rate
    Gamma(r + x, alpha + T), buys nothing in `window` with probability ((alpha + T) / (alpha + T +
    window)) ** (r + x). So P = (1 - p_alive) + p_alive * ((alpha + T) / (alpha + T + window)) ** (r + x),
    where p_alive = 1 when x = 0 (BG/NBD drops customers out only right after a repeat purchase).
    """
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    big_t = np.asarray(T, dtype=np.float64)
    t = np.asarray(window, dtype=np.float64)
    alive = probability_alive(params, x, t_x, big_t)
    silent = np.exp((params.r + x) * (np.log(params.alpha + big_t) - np.log(params.alpha + big_t + t)))
    return (1.0 - alive) + alive * silent


def _matrix(features: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    return model_matrix(features).reindex(columns=list(names)).to_numpy()


def churn_horizon(orders: pd.DataFrame, *, minimum_days: int, maximum_days: int = 365) -> int:
    """Days without a purchase that count as churned: at least `minimum_days`, and long enough that
    three in four repeat purchases follow the previous one within it (rounded up to 30 days).

    A fixed 90 days on data where regulars buy every three to six months labels most loyal customers
    "churned" in any given quarter, and the model then rates nearly everyone at 80-100%.
    """
    orders = conform(orders, "orders")
    if orders.empty:
        return minimum_days
    visits = orders[["customer_id", "order_id", "ordered_at"]].dropna().drop_duplicates("order_id")
    visits = visits.sort_values(["customer_id", "ordered_at"])
    gaps = visits.groupby("customer_id", observed=True)["ordered_at"].diff().dropna()
    if len(gaps) < 20:
        return minimum_days
    typical = float(gaps.dt.total_seconds().quantile(0.75)) / 86_400.0
    return int(min(max(minimum_days, 30 * np.ceil(typical / 30)), max(maximum_days, minimum_days)))


def _fit(
    rows: pd.DataFrame,
    horizon_days: int,
    random_state: int,
    max_rows: int,
    names: tuple[str, ...] = CHURN_FEATURES,
) -> ChurnModel:
    if len(rows) > max_rows:
        # Past a few hundred thousand snapshots more rows barely move the model but cost minutes.
        rows = rows.sample(n=max_rows, random_state=random_state)
    labels = rows["churned"].to_numpy(dtype=bool)
    if len(np.unique(labels)) < 2:
        return ChurnModel(
            estimator=None,
            constant=float(labels.mean()) if len(labels) else 0.5,
            horizon_days=horizon_days,
            feature_names=names,
        )
    estimator = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        # The stratified 10% validation split needs both classes several times over: 50 rows and up.
        # (500, not 1,000: the fitting fold is 70% of the snapshots since the calibration fold exists.)
        early_stopping=len(rows) >= 500,
        monotonic_cst=[MONOTONIC.get(name, 0) for name in names],
        random_state=random_state,
    )
    with threadpool_limits(limits=1):
        estimator.fit(_matrix(rows, names), labels)
    return ChurnModel(estimator=estimator, constant=None, horizon_days=horizon_days, feature_names=names)


def _calibration_fold(customer_ids: pd.Series) -> NDArray[np.bool_]:
    """True for the rows of the customers in the calibration fold: a hash of the id, so the split does
    not depend on row order and every snapshot of one customer lands in the same fold."""
    hashed = pd.util.hash_array(customer_ids.astype("str").to_numpy(dtype=object))
    return (hashed % np.uint64(1000)) < np.uint64(round(CALIBRATION_SHARE * 1000))


def _fit_calibrated(
    rows: pd.DataFrame, horizon_days: int, random_state: int, max_rows: int, names: tuple[str, ...]
) -> ChurnModel:
    """The classifier fitted on the fitting fold plus its isotonic calibrator fitted on the calibration
    fold; fitted on every row and uncalibrated when a fold is too small or holds one class only."""
    fold = _calibration_fold(rows["customer_id"])
    fitting, calibration = rows[~fold], rows[fold]
    if (
        len(calibration) >= MIN_CALIBRATION_ROWS
        and calibration["churned"].nunique() == 2
        and fitting["churned"].nunique() == 2
    ):
        model = _fit(fitting, horizon_days, random_state, max_rows, names)
        floor, ceiling = CALIBRATED_RANGE
        model.calibrator = fit_isotonic(
            _raw_probabilities(model, calibration),
            calibration["churned"].to_numpy(dtype=bool),
            floor=floor,
            ceiling=ceiling,
        )
        return model
    return _fit(rows, horizon_days, random_state, max_rows, names)


def _fit_recency(rows: pd.DataFrame) -> IsotonicRegression:
    """Recency alone as a probability: the churn rate by days since the last purchase (isotonic)."""
    floor, ceiling = CALIBRATED_RANGE
    return fit_isotonic(
        model_matrix(rows)["recency_days"].to_numpy(),
        rows["churned"].to_numpy(dtype=bool),
        floor=floor,
        ceiling=ceiling,
    )


def _raw_matrix_probabilities(model: ChurnModel, matrix: np.ndarray) -> np.ndarray:
    if model.estimator is None:
        return np.full(len(matrix), model.constant if model.constant is not None else 0.5)
    classes = list(model.estimator.classes_)
    with threadpool_limits(limits=1):
        return model.estimator.predict_proba(matrix)[:, classes.index(True)]


def _raw_probabilities(model: ChurnModel, features: pd.DataFrame) -> np.ndarray:
    return _raw_matrix_probabilities(model, _matrix(features, model.feature_names))


def _model_predictor(model: ChurnModel) -> Predict:
    """The classifier's calibrated probability of a model matrix (columns model.feature_names)."""

    def predict(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        raw = _raw_matrix_probabilities(model, matrix)
        calibrator = model.calibrator
        return raw if calibrator is None else np.asarray(calibrator.predict(raw), dtype=np.float64)

    return predict


def _served_model(model: ChurnModel, features: pd.DataFrame) -> NDArray[np.float64]:
    """The classifier's calibrated probabilities (what the model variant serves) for snapshot rows."""
    return _model_predictor(model)(_matrix(features, model.feature_names))


def _bgnbd_predictor(params: BGNBDParams, horizon_days: int, time_unit_days: float) -> Predict:
    """BG/NBD's P(no purchase in the window) of a BGNBD_INPUTS matrix (days); t_x = T - recency."""

    def predict(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        big_t = matrix[:, 2] / time_unit_days
        t_x = np.clip(big_t - matrix[:, 0] / time_unit_days, 0.0, big_t)
        return bgnbd_no_purchase_probability(params, horizon_days / time_unit_days, matrix[:, 1], t_x, big_t)

    return predict


def _recency_predictor(calibrator: IsotonicRegression) -> Predict:
    def predict(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(calibrator.predict(matrix[:, 0]), dtype=np.float64)

    return predict


def _bgnbd_inputs(features: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    history = history.reindex(features.index)
    age = history["model_age_days"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            # Days since the last purchase day, as BG/NBD sees it (T - t_x): the features' recency_days.
            "recency_days": age - history["model_recency_days"].to_numpy(dtype=np.float64),
            "model_frequency": history["model_frequency"].to_numpy(dtype=np.float64),
            "model_age_days": age,
        },
        index=features.index,
    )


def _variant(
    model: ChurnModel, served: Served, features: pd.DataFrame, history: pd.DataFrame | None
) -> tuple[pd.DataFrame, Predict]:
    """(inputs, predict) of the served variant: predict(inputs.to_numpy()) is its churn probability."""
    if served == "bgnbd" and model.bgnbd is not None and history is not None:
        return _bgnbd_inputs(features, history), _bgnbd_predictor(
            model.bgnbd, model.horizon_days, model.time_unit_days
        )
    if served == "recency" and model.recency_calibrator is not None:
        inputs = model_matrix(features)[list(RECENCY_INPUTS)]
        return inputs, _recency_predictor(model.recency_calibrator)
    inputs = model_matrix(features).reindex(columns=list(model.feature_names))
    return inputs, _model_predictor(model)


def _test_history(evidence: BGNBDEvidence, test: pd.DataFrame) -> pd.DataFrame:
    return evidence.history.reindex(pd.Index(test["customer_id"].astype("str"))).set_axis(test.index)


def _evaluate(
    train: pd.DataFrame,
    test: pd.DataFrame,
    held_out: ChurnModel,
    *,
    horizon_days: int,
    random_state: int,
    bgnbd: BGNBDEvidence | None,
) -> dict[str, Any]:
    """Scores of every variant on the held-out snapshot, the served choice, its reliability table and
    permutation importances, and the recency calibrator fitted on the training snapshots."""
    labels = test["churned"].to_numpy(dtype=bool)
    held_out = replace(held_out, recency_calibrator=_fit_recency(train))
    variants: dict[str, tuple[pd.DataFrame, Predict]] = {
        "model": _variant(held_out, "model", test, None),
        "recency": _variant(held_out, "recency", test, None),
    }
    if bgnbd is not None and bgnbd.held_out is not None:
        history = _test_history(bgnbd, test)
        if history["model_age_days"].notna().all():
            variants["bgnbd"] = (
                _bgnbd_inputs(test, history),
                _bgnbd_predictor(bgnbd.held_out, horizon_days, bgnbd.time_unit_days),
            )
    probabilities = {
        name: predict(inputs.to_numpy(dtype=np.float64)) for name, (inputs, predict) in variants.items()
    }
    rate = float(train["churned"].mean())
    probabilities["overall_rate"] = np.full(len(test), rate)
    scores = {
        name: score_report(labels, probabilities[name])
        for name in ("model", "bgnbd", "recency", "overall_rate")
        if name in probabilities
    }
    scores.setdefault("bgnbd", {"roc_auc": None, "brier": None, "log_loss": None})
    served: Served = "model"
    # BG/NBD can be served only with the run's own fit to score today's customers with.
    if "bgnbd" in probabilities and bgnbd is not None and bgnbd.served is not None:
        if scores["bgnbd"]["log_loss"] < scores["model"]["log_loss"]:  # type: ignore[operator]
            served = "bgnbd"
    recency_auc = scores["recency"]["roc_auc"]
    served_auc = scores[served]["roc_auc"]
    beats = served_auc is not None and recency_auc is not None and served_auc > recency_auc
    if not beats:
        served = "recency"
    inputs, predict = variants[served]
    return {
        "served": served,
        "beats_baseline": bool(beats),
        "scores": scores,
        "reliability": reliability_table(labels, probabilities[served]),
        "importances": permutation_importances(predict, inputs, labels, random_state=random_state),
    }


# With a single labelled snapshot (a history shorter than three churn windows: the earlier cutoff has no
# customer old enough to judge) there is no later period to test on; a share of the customers, chosen by a
# salted hash of their id, is held out of the same snapshot instead, when there are enough of them for
# the scores to mean something. Weaker evidence than a later period (it does not test drift), and the
# run says which it was (metrics["holdout"]: "period" or "customers").
CUSTOMER_HOLDOUT_SHARE = 0.3
CUSTOMER_HOLDOUT_MIN_ROWS = 500


def held_out_split(frame: pd.DataFrame, cutoffs: list[Any]) -> tuple[pd.DataFrame, pd.DataFrame, str] | None:
    """(train, test, "period" | "customers"): the latest snapshot held out when there are two or more,
    else held-out customers of the one snapshot (see CUSTOMER_HOLDOUT_SHARE); None when neither works."""
    if len(cutoffs) >= 2:
        latest = cutoffs[-1]
        return frame[frame["cutoff"] < latest], frame[frame["cutoff"] == latest], "period"
    if len(cutoffs) == 1 and len(frame) >= CUSTOMER_HOLDOUT_MIN_ROWS:
        salted = ("holdout:" + frame["customer_id"].astype("str")).to_numpy(dtype=object)
        hashed = pd.util.hash_array(salted)
        test = (hashed % np.uint64(1000)) < np.uint64(round(CUSTOMER_HOLDOUT_SHARE * 1000))
        return frame[~test], frame[test], "customers"
    return None


def train_churn_model(
    frame: pd.DataFrame,
    *,
    horizon_days: int | None = None,
    random_state: int = 0,
    max_rows: int = 200_000,
    bgnbd: BGNBDEvidence | None = None,
) -> tuple[ChurnModel, dict[str, Any]]:
    """Fit on all but the latest cutoff, score every variant on the latest (with one cutoff only: on
    held-out customers of it, `held_out_split`), then refit on everything.

    `horizon_days` defaults to the one churn_training_frame recorded in `frame.attrs`. Each fit uses at
    most `max_rows` randomly chosen snapshots. The classifier uses CHURN_FEATURES, or the purchase
    history alone when the contact features lowered the held-out AUC (or there are no contacts at all):
    a drifting sessions log must not make the risks shown to staff worse than they were without it.
    `bgnbd` brings the BG/NBD variant into the comparison (without it the choice is model or recency).

    metrics: roc_auc (the calibrated classifier's held-out AUC; None when it cannot be measured, with
    auc_reason saying why), roc_auc_with_interactions and roc_auc_without_interactions (purchase history
    only; None without contacts; calibrated), roc_auc_recency_baseline (days since the last purchase as
    the score), features ("purchases+interactions" or "purchases"), n_train, n_test, churn_rate_train,
    churn_rate_test, test_cutoff; and window_days, served ("model" | "bgnbd" | "recency"), scores
    ({variant: {roc_auc, brier, log_loss}} for model, bgnbd, recency, overall_rate), reliability (of the
    served probability), importances (permutation, AUC points), beats_baseline and calibration
    ("isotonic" | "none"). Without a held-out period the model is served and beats_baseline is False
    (not shown to beat anything).
    """
    if horizon_days is None:
        horizon_days = int(frame.attrs.get("horizon_days", 0))
    cutoffs = sorted(frame["cutoff"].unique()) if len(frame) else []
    contacts = _has_contacts(frame)
    names = CHURN_FEATURES if contacts else PURCHASE_FEATURES
    metrics: dict[str, Any] = {
        "roc_auc": None,
        "auc_reason": None,
        "roc_auc_with_interactions": None,
        "roc_auc_without_interactions": None,
        "roc_auc_recency_baseline": None,
        "n_train": len(frame),
        "n_test": 0,
        "window_days": int(horizon_days),
        "served": "model",
        "scores": {},
        "reliability": [],
        "importances": [],
        "beats_baseline": False,
        "calibration": "none",
    }
    evaluation: dict[str, Any] | None = None
    split = held_out_split(frame, cutoffs)
    if split is None:
        metrics["auc_reason"] = (
            "one snapshot only: no later period to hold out, and too few customers to hold some out"
        )
    else:
        train, test, holdout = split
        test_cutoff = cutoffs[-1]
        metrics.update(
            n_train=len(train),
            n_test=len(test),
            test_cutoff=pd.Timestamp(test_cutoff).isoformat(),
            holdout=holdout,
        )
        metrics["churn_rate_train"] = float(train["churned"].mean()) if len(train) else None
        metrics["churn_rate_test"] = float(test["churned"].mean()) if len(test) else None
        if train["churned"].nunique() < 2:
            metrics["auc_reason"] = "training period has a single class"
        elif test["churned"].nunique() < 2:
            metrics["auc_reason"] = "held-out period has a single class"
        else:
            labels = test["churned"].to_numpy(dtype=bool)
            # Longer since the last purchase = more likely gone; the model matrix's recency (no gaps).
            recency = model_matrix(test)["recency_days"].to_numpy()
            metrics["roc_auc_recency_baseline"] = roc_auc(labels, recency)
            held_out = _fit_calibrated(train, horizon_days, random_state, max_rows, PURCHASE_FEATURES)
            metrics["roc_auc_without_interactions"] = roc_auc(labels, _served_model(held_out, test))
            if contacts:
                with_contacts = _fit_calibrated(train, horizon_days, random_state, max_rows, CHURN_FEATURES)
                metrics["roc_auc_with_interactions"] = roc_auc(labels, _served_model(with_contacts, test))
                if metrics["roc_auc_with_interactions"] < metrics["roc_auc_without_interactions"]:
                    names = PURCHASE_FEATURES
                else:
                    held_out = with_contacts
            evaluation = _evaluate(
                train, test, held_out, horizon_days=horizon_days, random_state=random_state, bgnbd=bgnbd
            )
            metrics.update(evaluation)
            metrics["roc_auc"] = evaluation["scores"]["model"]["roc_auc"]
    if not len(frame):
        metrics["auc_reason"] = "no customers with purchases before the cutoff"
    metrics["features"] = "purchases+interactions" if names == CHURN_FEATURES else "purchases"
    model = _fit_calibrated(frame, horizon_days, random_state, max_rows, names)
    metrics["calibration"] = "isotonic" if model.calibrator is not None else "none"
    if len(frame) and frame["churned"].nunique() == 2:
        model.recency_calibrator = _fit_recency(frame)
    if bgnbd is not None:
        model.bgnbd = bgnbd.served
        model.time_unit_days = bgnbd.time_unit_days
    model.served = metrics["served"]
    return model, metrics


def describe_population(model: ChurnModel, features: pd.DataFrame, history: pd.DataFrame) -> ChurnModel:
    """The model with the reference points of its explanations and bands, taken from the customers it
    scores (`features` and `bgnbd_history` as of the run): the median of every input of every variant,
    and the median usual gap between purchase days (over repeat buyers' mean gaps) for one-off buyers.
    Stored on the model so a single-customer refresh explains and bands exactly as the run did."""
    scored = churn_status(model, features, history) == "scored"
    people, their_history = features[scored], history.reindex(features.index)[scored]
    inputs = pd.concat(
        [
            model_matrix(people).reindex(columns=list(model.feature_names)),
            _bgnbd_inputs(people, their_history)[["model_frequency", "model_age_days"]],
        ],
        axis=1,
    )
    repeat = history[history["model_frequency"] > 0]
    gaps = repeat["model_recency_days"] / repeat["model_frequency"]
    return replace(
        model,
        typical=typical_values(inputs),
        median_gap_days=float(gaps.median()) if len(gaps) else None,
    )


def _has_contacts(rows: pd.DataFrame) -> bool:
    return "contacts_per_month" in rows.columns and bool(rows["contacts_per_month"].fillna(0).gt(0).any())


def predict_churn(model: ChurnModel, features: pd.DataFrame) -> pd.Series:
    """The classifier's calibrated P(no purchase in the model's horizon) per customer; NaN for customers
    who never bought. (The served answer, with the too-new rule, is `churn_columns`.)"""
    result = pd.Series(np.nan, index=features.index, name="churn_probability", dtype="float64")
    buyers = features["frequency"] > 0
    if buyers.any():
        result[buyers] = _model_predictor(model)(_matrix(features[buyers], model.feature_names))
    return result


def churn_status(model: ChurnModel | None, features: pd.DataFrame, history: pd.DataFrame) -> NDArray[np.str_]:
    """Per customer "never_bought" (no purchase), "too_new" (first purchase day fewer than the churn
    window's days before the as-of day, or no churn model at all) or "scored".

    Too new is counted from the first purchase, not from sign-up (tenure_days): a churn window of
    purchase rhythm has to have been observed before its absence can be judged, and an account opened
    years before a first order says nothing about the buying rhythm.
    """
    buyer = (features["frequency"] > 0).to_numpy()
    # Whole days, stored as periods x time_unit_days: rounding keeps 90/7*7 from falling short of 90.
    age = np.round(history.reindex(features.index)["model_age_days"].to_numpy(dtype=np.float64), 6)
    window = math.inf if model is None else model.horizon_days
    old_enough = np.nan_to_num(age, nan=-1.0) >= window
    return np.where(~buyer, "never_bought", np.where(old_enough, "scored", "too_new"))


def band_measures(
    features: pd.DataFrame, history: pd.DataFrame, *, median_gap_days: float | None
) -> pd.DataFrame:
    """What BAND_RULES look at: recency_days and silence_ratio (days since the last purchase over the
    customer's usual gap: their mean days between purchase days, the population's median gap for
    one-off buyers; NaN without a usual gap)."""
    history = history.reindex(features.index)
    x = history["model_frequency"].to_numpy(dtype=np.float64)
    span = history["model_recency_days"].to_numpy(dtype=np.float64)
    fallback = np.nan if median_gap_days is None or median_gap_days <= 0 else median_gap_days
    gap = np.divide(span, x, out=np.full(len(x), fallback), where=x > 0)
    recency = features["recency_days"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "recency_days": recency,
            "silence_ratio": np.divide(recency, gap, out=np.full(len(x), np.nan), where=gap > 0),
        },
        index=features.index,
    )


def churn_bands(probability: ArrayLike, measures: pd.DataFrame) -> NDArray[np.object_]:
    """CHURN_BANDS by the probability's lower edges, then BAND_RULES in order; "" where no probability."""
    p = np.asarray(probability, dtype=np.float64)
    names = np.array([name for name, _ in CHURN_BANDS], dtype=object)
    edges = np.array([lower for _, lower in CHURN_BANDS])
    rank = np.clip(np.searchsorted(edges, np.nan_to_num(p, nan=0.0), side="right") - 1, 0, len(edges) - 1)
    order = {name: i for i, name in enumerate(names)}
    for rule in BAND_RULES:
        value = measures[rule.measure].to_numpy(dtype=np.float64)
        applies = (value >= rule.minimum) & (value <= rule.maximum)
        bound = order[rule.band]
        limited = np.minimum(rank, bound) if rule.limit == "at_most" else np.maximum(rank, bound)
        rank = np.where(applies, limited, rank)
    return np.where(np.isnan(p), "", names[rank])


def _one_off_repeats_unexplained(
    served: str | None, inputs: pd.DataFrame, effects: NDArray[np.float64]
) -> None:
    """No repeat-purchase factor for one-off buyers when BG/NBD is served: it cannot drop a customer out
    before a repeat purchase, so "with the typical 3 repeats (and the same dates)" reads as a higher risk
    and the card said that having none "lowers the risk" of a buyer silent for two years, a what-if no
    real customer can be. Their risk is explained by the time since the first purchase."""
    if served != "bgnbd" or "model_frequency" not in inputs.columns:
        return
    column = list(inputs.columns).index("model_frequency")
    effects[inputs["model_frequency"].to_numpy(dtype=np.float64) == 0, column] = 0.0


def churn_columns(model: ChurnModel | None, features: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """The profile's churn columns per customer of `features` (`history`: bgnbd_history as of the same
    moment): churn_probability (the served variant's; NaN unless scored), churn_status, churn_band
    ("" unless scored) and churn_factors (top factors, [] unless scored)."""
    index = features.index
    status = churn_status(model, features, history)
    scored = status == "scored"
    probability = np.full(len(index), np.nan)
    factors: list[list[dict[str, Any]]] = [[] for _ in range(len(index))]
    if model is not None and scored.any():
        # Dataclass defaults are class attributes: a model pickled before these fields reads them as None.
        inputs, predict = _variant(model, model.served, features[scored], history)
        matrix = inputs.to_numpy(dtype=np.float64)
        probability[scored] = predict(matrix)
        typical = model.typical or typical_values(inputs)
        effects = factor_effects(predict, inputs, typical)
        _one_off_repeats_unexplained(model.served, inputs, effects)
        for position, explained in zip(
            np.flatnonzero(scored), top_factors(inputs, typical, effects), strict=True
        ):
            factors[position] = explained
    median_gap = None if model is None else model.median_gap_days
    bands = churn_bands(probability, band_measures(features, history, median_gap_days=median_gap))
    return pd.DataFrame(
        {
            "churn_probability": probability,
            "churn_status": status,
            "churn_band": bands,
            "churn_factors": pd.Series(factors, index=index, dtype=object).to_numpy(),
        },
        index=index,
    )
