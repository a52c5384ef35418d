"""Churn risk: a classifier of "no purchase in the next `horizon_days`", validated on a later period.

Training rows are customer snapshots: features as of a cutoff, labelled by whether the customer
bought in [cutoff, cutoff + horizon) (a cutoff is exclusive: features see what is before it).
With snapshots at two or more cutoffs the latest one is held out, so the reported AUC measures
what the model will face in production: predicting a period it has not seen. The served model is
then refitted on every snapshot so it knows the latest behaviour.
Only customers who had bought before the cutoff are in the population: churn presumes a purchase.

Two yardsticks are measured on the same held-out snapshot and recorded beside the model's AUC: the
purchase-history model without the contact features of the sessions log (what they add), and a naive
baseline that needs no model at all: the days since the last purchase as the score (recency only). A
model that does not beat it is not worth showing anyone.

The gradient-boosting model runs single-threaded: its OpenMP threads fight the web and Celery
processes for the same cores, and on a loaded 2-core machine that made a 1,500-row fit 25x slower.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from .features import PURCHASE_FEATURES, customer_features, model_matrix
from .frames import as_utc_timestamp, conform
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


@dataclass
class ChurnModel:
    """A fitted churn classifier, or a constant rate when training saw only one class. Picklable."""

    estimator: HistGradientBoostingClassifier | None
    constant: float | None
    horizon_days: int
    feature_names: tuple[str, ...] = CHURN_FEATURES


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
        # The stratified validation split needs both classes several times over.
        early_stopping=len(rows) >= 1_000,
        monotonic_cst=[MONOTONIC.get(name, 0) for name in names],
        random_state=random_state,
    )
    with threadpool_limits(limits=1):
        estimator.fit(_matrix(rows, names), labels)
    return ChurnModel(estimator=estimator, constant=None, horizon_days=horizon_days, feature_names=names)


def _probabilities(model: ChurnModel, features: pd.DataFrame) -> np.ndarray:
    if model.estimator is None:
        return np.full(len(features), model.constant if model.constant is not None else 0.5)
    classes = list(model.estimator.classes_)
    matrix = _matrix(features, model.feature_names)
    with threadpool_limits(limits=1):
        return model.estimator.predict_proba(matrix)[:, classes.index(True)]


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores))


def _has_contacts(rows: pd.DataFrame) -> bool:
    return "contacts_per_month" in rows.columns and bool(rows["contacts_per_month"].fillna(0).gt(0).any())


def train_churn_model(
    frame: pd.DataFrame, *, horizon_days: int | None = None, random_state: int = 0, max_rows: int = 200_000
) -> tuple[ChurnModel, dict[str, Any]]:
    """Fit on all but the latest cutoff, report ROC AUC on the latest, then refit on everything.

    `horizon_days` defaults to the one churn_training_frame recorded in `frame.attrs`. Each fit uses at
    most `max_rows` randomly chosen snapshots. The served model uses CHURN_FEATURES, or the purchase
    history alone when the contact features lowered the held-out AUC (or there are no contacts at all):
    a drifting sessions log must not make the risks shown to staff worse than they were without it.

    metrics: roc_auc (the served feature set's held-out AUC; None when it cannot be measured, with
    auc_reason saying why), roc_auc_with_interactions and roc_auc_without_interactions (purchase history
    only; None without contacts), roc_auc_recency_baseline (days since the last purchase as the score),
    features ("purchases+interactions" or "purchases"), n_train, n_test, churn_rate_train,
    churn_rate_test, test_cutoff.
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
    }
    if len(cutoffs) < 2:
        metrics["auc_reason"] = "one snapshot only: no later period to hold out"
    else:
        test_cutoff = cutoffs[-1]
        train = frame[frame["cutoff"] < test_cutoff]
        test = frame[frame["cutoff"] == test_cutoff]
        metrics.update(
            n_train=len(train), n_test=len(test), test_cutoff=pd.Timestamp(test_cutoff).isoformat()
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
            metrics["roc_auc_recency_baseline"] = _auc(labels, recency)
            without = _fit(train, horizon_days, random_state, max_rows, PURCHASE_FEATURES)
            metrics["roc_auc_without_interactions"] = _auc(labels, _probabilities(without, test))
            metrics["roc_auc"] = metrics["roc_auc_without_interactions"]
            if contacts:
                held_out_model = _fit(train, horizon_days, random_state, max_rows, CHURN_FEATURES)
                metrics["roc_auc_with_interactions"] = _auc(labels, _probabilities(held_out_model, test))
                if metrics["roc_auc_with_interactions"] < metrics["roc_auc_without_interactions"]:
                    names = PURCHASE_FEATURES
                else:
                    metrics["roc_auc"] = metrics["roc_auc_with_interactions"]
    if not len(frame):
        metrics["auc_reason"] = "no customers with purchases before the cutoff"
    metrics["features"] = "purchases+interactions" if names == CHURN_FEATURES else "purchases"
    return _fit(frame, horizon_days, random_state, max_rows, names), metrics


def predict_churn(model: ChurnModel, features: pd.DataFrame) -> pd.Series:
    """P(no purchase in the model's horizon) per customer; NaN for customers who never bought."""
    result = pd.Series(np.nan, index=features.index, name="churn_probability", dtype="float64")
    buyers = features["frequency"] > 0
    if buyers.any():
        result[buyers] = _probabilities(model, features[buyers])
    return result
