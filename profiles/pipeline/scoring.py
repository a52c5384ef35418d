"""Turn fitted models plus cleaned data into profile rows.

The nightly run and the single-customer refresh both go through `score_profiles`, so a refreshed
customer gets exactly the columns, and the same model outputs, as everyone else did in the last run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .churn import ChurnModel, predict_churn
from .clusters import ClusterInfo, ClusterModel, assign_clusters, cluster_names
from .clv import (
    BGNBDParams,
    GammaGammaParams,
    clv,
    expected_average_value,
    expected_purchases,
    probability_alive,
    rfm_summary,
)
from .interests import (
    as_lists,
    preferred_channel,
    preferred_times,
    static_profile,
    top_categories,
    top_search_terms,
)
from .rfm import RFM_SEGMENTS, RFMReference, rfm_scores
from .rules import offers_from_purchases


@dataclass(frozen=True)
class PipelineParams:
    """Every tunable of a run; stored with the run so its results can be reproduced."""

    max_events_per_minute: int = 30
    time_unit_days: float = 7.0
    clv_months: int = 12
    discount_rate_monthly: float = 0.01
    expected_purchases_days: tuple[int, ...] = (90, 365)
    clv_min_repeat_buyers: int = 10
    clv_penalizer: float = 0.0
    # BG/NBD and Gamma-Gamma have 4 + 3 population parameters: a random sample of this many customers
    # pins them far tighter than their standard error, and keeps the fit's time flat at millions.
    clv_fit_sample_size: int = 200_000
    churn_horizon_days: int = 90
    churn_min_customers: int = 20
    k_range: tuple[int, int] = (2, 8)
    cluster_sample_size: int = 10_000
    random_state: int = 0
    rules_min_support: float = 0.01
    rules_min_confidence: float = 0.1
    rules_max_len: int = 3
    offers_top_n: int = 3
    top_categories_n: int = 3
    top_search_terms_n: int = 5
    timezone: str = "UTC"

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


@dataclass
class CleanInputs:
    """Inputs after cleaning, conformed to the column conventions."""

    customers: pd.DataFrame
    orders: pd.DataFrame
    events: pd.DataFrame
    interactions: pd.DataFrame
    campaign_responses: pd.DataFrame


def _clv_columns(
    models: PipelineModels, orders: pd.DataFrame, index: pd.Index, as_of: pd.Timestamp
) -> pd.DataFrame:
    params = models.params
    summary = rfm_summary(orders, as_of=as_of, time_unit_days=params.time_unit_days).reindex(index)
    result = pd.DataFrame(index=index)
    horizons = {f"expected_purchases_{days}d": days for days in params.expected_purchases_days}
    for column in ("probability_alive", *horizons, "expected_average_value", "clv"):
        result[column] = np.nan
    buyers = summary["frequency"].notna().to_numpy()
    if models.bgnbd is None or not buyers.any():
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
        result.loc[buyers, "expected_average_value"] = expected_average_value(models.gamma_gamma, x, m)
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
    if models.churn is not None:
        profiles["churn_probability"] = predict_churn(models.churn, features)
    else:
        profiles["churn_probability"] = np.nan
    labels = assign_clusters(models.clusters, features)
    profiles["cluster"] = labels
    profiles["cluster_name"] = cluster_names(models.clusters, labels)

    offers = offers_from_purchases(
        models.rules, data.orders["customer_id"], data.orders["category"], top_n=params.offers_top_n
    )
    categories = top_categories(data.orders, n=params.top_categories_n)
    terms = top_search_terms(data.events, n=params.top_search_terms_n)
    # Empty lists rather than NaN, so every profile row stores the same JSON shape.
    profiles["top_categories"] = as_lists(categories, "category", index=index)
    profiles["top_search_terms"] = as_lists(terms, "term", index=index)
    profiles["next_best_offers"] = as_lists(offers, "category", index=index)
    profiles["preferred_channel"] = preferred_channel(data.events, data.interactions, data.orders).reindex(
        index
    )
    _add(profiles, preferred_times(data.events, data.orders, timezone=params.timezone))
    _add(profiles, static_profile(data.customers, as_of=as_of))
    profiles.index.name = "customer_id"
    return profiles, offers


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
