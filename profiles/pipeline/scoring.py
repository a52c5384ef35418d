"""Turn fitted models plus cleaned data into profile rows.

The nightly run and the single-customer refresh both go through `score_profiles`, so a refreshed
customer gets exactly the columns, and the same model outputs, as everyone else did in the last run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .churn import ChurnModel, churn_columns, predict_churn
from .clusters import ClusterInfo, ClusterModel, assign_clusters, cluster_names
from .clv import (
    DAYS_PER_MONTH,
    BGNBDParams,
    GammaGammaParams,
    clv,
    expected_average_value,
    expected_purchases,
    probability_alive,
    rfm_summary,
)
from .evaluation import same_rate_per_day
from .interests import (
    as_lists,
    preferred_channel,
    preferred_times,
    static_profile,
    top_categories,
    top_search_terms,
)
from .rfm import RFM_SEGMENTS, RFMReference, rfm_scores
from .rules import offer_reasons, offers_from_purchases, popular_offers


@dataclass(frozen=True)
class PipelineParams:
    """Every tunable of a run; stored with the run so its results can be reproduced."""

    max_events_per_minute: int = 30
    time_unit_days: float = 7.0
    clv_months: int = 12
    discount_rate_monthly: float = 0.01
    # Forecast horizons in days (settings.PROFILES_FORECAST_HORIZONS); every profile stores expected
    # purchases and spend for each. 90 and 365 are always computed: profile columns and rules use them.
    expected_purchases_days: tuple[int, ...] = (90, 365)
    clv_min_repeat_buyers: int = 10
    clv_penalizer: float = 0.0
    # BG/NBD and Gamma-Gamma have 4 + 3 population parameters: a random sample of this many customers
    # pins them far tighter than their standard error, and keeps the fit's time flat at millions.
    clv_fit_sample_size: int = 200_000
    churn_horizon_days: int = 90
    churn_min_customers: int = 20
    # Clusters (profiles.pipeline.clusters): k by silhouette within k_range (settings.
    # PROFILES_CLUSTER_K_RANGE), clusters under cluster_min_share of the customers merged
    # (PROFILES_CLUSTER_MIN_SHARE), stability from cluster_bootstrap_samples refits.
    k_range: tuple[int, int] = (4, 8)
    cluster_sample_size: int = 10_000
    cluster_min_share: float = 0.02
    cluster_bootstrap_samples: int = 5
    random_state: int = 0
    rules_min_support: float = 0.01
    rules_min_confidence: float = 0.1
    rules_max_len: int = 3
    offers_top_n: int = 3
    # The forecast and the offers are scored on the last this many days, refitted on the days before
    # (evaluation.py): the churn window's length, so every model of a run is judged over the same
    # quarter, long enough that most active customers buy in it.
    evaluation_holdout_days: int = 90
    top_categories_n: int = 3
    top_search_terms_n: int = 5
    timezone: str = "UTC"
    # Rows before this ISO date (in `timezone`) are left out and counted (settings.PROFILES_HISTORY_START);
    # None keeps all history datetime64[ns] can hold (from 1677).
    history_start: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PipelineModels:
    """Everything fitted in a run that scoring needs later. Picklable; None marks a skipped model."""

    as_of: pd.Timestamp
    params: PipelineParams
    rfm_reference: RFMReference
    bgnbd: BGNBDParams | None
    gamma_gamma: GammaGammaParams | None
    churn: ChurnModel | None
    clusters: ClusterModel
    rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    # What the held-out evaluation chose to serve (evaluation.FORECAST_SOURCES / OFFER_SOURCES): the
    # models unless a naive baseline beat them. Defaults keep models pickled before these fields valid.
    forecast_source: str = "model"
    offer_source: str = "rules"
    # Every category by buyers, most first (rules.popular_categories): the popular-offers fallback.
    popular_categories: tuple[str, ...] = ()


@dataclass
class CleanInputs:
    """Inputs after cleaning, conformed to the column conventions."""

    customers: pd.DataFrame
    orders: pd.DataFrame
    events: pd.DataFrame
    interactions: pd.DataFrame
    campaign_responses: pd.DataFrame


MAX_HORIZON_DAYS = 3650
MAX_HORIZONS = 10


def parse_forecast_horizons(value: object) -> tuple[int, ...]:
    """Forecast horizons from a setting: "90,365,30" or a list of day counts; ValueError saying what is wrong.

    Each horizon is a whole number of days from 1 to MAX_HORIZON_DAYS; at most MAX_HORIZONS of them.
    """
    items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    horizons: list[int] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            days = int(text)
        except ValueError:
            raise ValueError(f"PROFILES_FORECAST_HORIZONS: {text!r} is not a whole number of days") from None
        if not 1 <= days <= MAX_HORIZON_DAYS:
            raise ValueError(
                f"PROFILES_FORECAST_HORIZONS: {days} is not between 1 and {MAX_HORIZON_DAYS} days"
            )
        horizons.append(days)
    if not horizons:
        raise ValueError("PROFILES_FORECAST_HORIZONS: give at least one horizon in days, e.g. 90,365")
    if len(set(horizons)) > MAX_HORIZONS:
        raise ValueError(f"PROFILES_FORECAST_HORIZONS: at most {MAX_HORIZONS} horizons")
    return tuple(sorted(set(horizons)))


def forecast_horizons(params: PipelineParams) -> tuple[int, ...]:
    """The forecast horizons in days, each once, ascending (90 and 365 are always among them)."""
    return tuple(sorted({int(days) for days in params.expected_purchases_days} | {90, 365}))


def _clv_columns(
    models: PipelineModels, orders: pd.DataFrame, index: pd.Index, as_of: pd.Timestamp
) -> pd.DataFrame:
    params = models.params
    summary = rfm_summary(
        orders, as_of=as_of, time_unit_days=params.time_unit_days, timezone=params.timezone
    ).reindex(index)
    result = pd.DataFrame(index=index)
    horizons = {f"expected_purchases_{days}d": days for days in forecast_horizons(params)}
    spend = {f"expected_spend_{days}d": days for days in forecast_horizons(params)}
    for column in ("probability_alive", *horizons, *spend, "expected_average_value", "clv"):
        result[column] = np.nan
    buyers = summary["frequency"].notna().to_numpy()
    # What the CLV models see of each buyer, in days, whether or not the models could be fitted.
    result["model_frequency"] = summary["frequency"]
    result["model_recency_days"] = summary["recency"] * params.time_unit_days
    result["model_age_days"] = summary["T"] * params.time_unit_days
    if not buyers.any():
        return result
    if models.forecast_source == "same_rate":
        _same_rate_columns(result, models, orders, summary, buyers, as_of)
        return result
    if models.bgnbd is None:
        return result
    x, t_x, big_t, m = (
        summary.loc[buyers, c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value")
    )
    alive = probability_alive(models.bgnbd, x, t_x, big_t)
    # BG/NBD cannot drop a customer out before a first repeat purchase, so it says 100% alive for anyone
    # who bought once, even years ago; sales staff read that as nonsense, so those get no value.
    result.loc[buyers, "probability_alive"] = np.where(x > 0, alive, np.nan)
    for column, days in horizons.items():
        periods = days / params.time_unit_days
        result.loc[buyers, column] = expected_purchases(models.bgnbd, periods, x, t_x, big_t)
    if models.gamma_gamma is not None:
        value = expected_average_value(models.gamma_gamma, x, m)
        result.loc[buyers, "expected_average_value"] = value
        for (purchases, _days), column in zip(horizons.items(), spend, strict=True):
            # Undiscounted: expected purchases in the horizon x expected spend per purchase.
            result.loc[buyers, column] = result.loc[buyers, purchases].to_numpy() * value
        result.loc[buyers, "clv"] = clv(
            models.bgnbd,
            models.gamma_gamma,
            x,
            t_x,
            big_t,
            m,
            months=params.clv_months,
            discount_rate_monthly=params.discount_rate_monthly,
            time_unit_days=params.time_unit_days,
        )
    return result


def _same_rate_columns(
    result: pd.DataFrame,
    models: PipelineModels,
    orders: pd.DataFrame,
    summary: pd.DataFrame,
    buyers: np.ndarray,
    as_of: pd.Timestamp,
) -> None:
    """The "same rate as before" forecast, served when it beat BG/NBD on the holdout (evaluation.py).

    Expected purchases in n days = repeat purchase days per day since the first purchase x n; the spend
    per purchase is the customer's average spend per purchase day (purchases count days, as BG/NBD's
    do), so expected spend = purchases x that, and CLV is the same spend per month, discounted. The
    probability alive stays BG/NBD's (it is not a forecast of purchases).
    """
    params = models.params
    x = summary.loc[buyers, "frequency"].to_numpy(dtype=np.float64)
    rate = same_rate_per_day(x, summary.loc[buyers, "T"].to_numpy(dtype=np.float64) * params.time_unit_days)
    lines = orders[orders["ordered_at"].lt(as_of) & orders["customer_id"].notna()]
    spent = lines.groupby("customer_id", observed=True)["amount"].sum()
    spent.index = spent.index.astype("str")
    value = spent.reindex(summary.index[buyers], fill_value=0.0).to_numpy(dtype=np.float64) / (x + 1.0)
    if models.bgnbd is not None:
        alive = probability_alive(
            models.bgnbd, x, *(summary.loc[buyers, c].to_numpy(dtype=np.float64) for c in ("recency", "T"))
        )
        result.loc[buyers, "probability_alive"] = np.where(x > 0, alive, np.nan)
    for days in forecast_horizons(params):
        purchases = rate * days
        result.loc[buyers, f"expected_purchases_{days}d"] = purchases
        result.loc[buyers, f"expected_spend_{days}d"] = purchases * value
    result.loc[buyers, "expected_average_value"] = value
    discount = sum(
        1.0 / (1.0 + params.discount_rate_monthly) ** month for month in range(1, params.clv_months + 1)
    )
    result.loc[buyers, "clv"] = rate * DAYS_PER_MONTH * value * discount


def _add(profiles: pd.DataFrame, columns: pd.DataFrame) -> None:
    """profiles.join(columns) (a left join on the customer index), but adding the columns in place."""
    aligned = columns if columns.index.equals(profiles.index) else columns.reindex(profiles.index)
    for name in columns.columns:
        profiles[name] = aligned[name]


def score_profiles(
    models: PipelineModels, data: CleanInputs, features: pd.DataFrame, *, as_of: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(profiles, offers): one profile row per customer in `features`, plus ranked offers in long form."""
    params = models.params
    index = features.index
    # Columns are added in place (a join copies the whole, growing frame each time: at a million
    # customers each copy was hundreds of MB on top of the run's peak memory).
    profiles = features.copy(deep=False)
    _add(profiles, rfm_scores(features, reference=models.rfm_reference))
    _add(profiles, _clv_columns(models, data.orders, index, as_of))
    # The served churn answer from the same BG/NBD inputs the profile stores, so a refresh matches the run.
    history = profiles[["model_frequency", "model_recency_days", "model_age_days"]]
    _add(profiles, churn_columns(models.churn, features, history))
    labels = assign_clusters(models.clusters, features)
    profiles["cluster"] = labels
    profiles["cluster_name"] = cluster_names(models.clusters, labels)

    if models.offer_source == "popular":
        offers = popular_offers(
            models.popular_categories,
            data.orders["customer_id"],
            data.orders["category"],
            top_n=params.offers_top_n,
        )
    else:
        offers = offers_from_purchases(
            models.rules, data.orders["customer_id"], data.orders["category"], top_n=params.offers_top_n
        )
    categories = top_categories(data.orders, n=params.top_categories_n)
    terms = top_search_terms(data.events, n=params.top_search_terms_n)
    # Empty lists rather than NaN, so every profile row stores the same JSON shape.
    profiles["top_categories"] = as_lists(categories, "category", index=index)
    profiles["top_search_terms"] = as_lists(terms, "term", index=index)
    profiles["next_best_offers"] = as_lists(offers, "category", index=index)
    profiles["offer_reasons"] = offer_reasons(offers, index=index)
    profiles["preferred_channel"] = preferred_channel(data.events, data.interactions, data.orders).reindex(
        index
    )
    _add(profiles, preferred_times(data.events, data.orders, timezone=params.timezone))
    _add(profiles, static_profile(data.customers, as_of=as_of, timezone=params.timezone))
    profiles.index.name = "customer_id"
    return profiles, offers


def churn_fit_report(model: ChurnModel, frame: pd.DataFrame) -> dict[str, Any]:
    """What the served churn model was fitted on, its log-likelihood there and whether boosting converged.

    Customers are distinct customers over the training snapshots; repeat transactions are the orders
    after each customer's first, as of the latest training cutoff. `converged` is True when early
    stopping ended the boosting before its iteration limit (or the model is a constant rate), False when
    it ran into the limit, and None when early stopping was off (small samples: no criterion to meet).
    """
    labels = frame["churned"].to_numpy(dtype=bool)
    latest = frame[frame["cutoff"] == frame["cutoff"].max()] if len(frame) else frame
    probabilities = np.clip(predict_churn(model, frame).to_numpy(dtype=np.float64), 1e-15, 1.0 - 1e-15)
    log_likelihood = float(np.where(labels, np.log(probabilities), np.log1p(-probabilities)).sum())
    estimator = model.estimator
    converged: bool | None
    iterations: int | None = None
    if estimator is None:
        converged = True
    else:
        iterations = int(estimator.n_iter_)
        converged = iterations < estimator.max_iter if estimator.early_stopping else None
    return {
        "n_customers": int(frame["customer_id"].nunique()) if len(frame) else 0,
        "n_snapshots": len(frame),
        "n_repeat_transactions": int((latest["frequency"] - 1).clip(lower=0).sum()) if len(latest) else 0,
        "log_likelihood": log_likelihood,
        "converged": converged,
        "iterations": iterations,
    }


def model_reports(
    bgnbd: BGNBDParams | None, gamma_gamma: GammaGammaParams | None, churn_metrics: dict[str, Any] | None
) -> dict[str, Any]:
    """Per fitted model (None when skipped): customers and repeat transactions it was fitted on,
    log-likelihood, convergence, and for BG/NBD and Gamma-Gamma the parameters with standard errors."""
    return {
        "bgnbd": None if bgnbd is None else bgnbd.report(),
        "gamma_gamma": None if gamma_gamma is None else gamma_gamma.report(),
        "churn": (churn_metrics or {}).get("fit"),
    }


def segment_summary(profiles: pd.DataFrame, clusters: list[ClusterInfo]) -> pd.DataFrame:
    """One row per automatic segment (kind rfm / cluster): key, display name, size, cluster centroid."""
    sizes = profiles["rfm_segment"].value_counts()
    rows: list[dict[str, Any]] = [
        {
            "kind": "rfm",
            "key": name,
            "name": name.replace("_", " "),
            "size": int(sizes.get(name, 0)),
            "centroid": None,
        }
        for name in RFM_SEGMENTS
    ]
    rows += [
        {
            "kind": "cluster",
            "key": str(info.cluster),
            "name": info.name,
            "size": info.size,
            "centroid": info.centroid,
        }
        for info in clusters
    ]
    return pd.DataFrame(rows, columns=["kind", "key", "name", "size", "centroid"])
