"""Orchestration: clean -> features -> fit (RFM, CLV, churn, clusters, rules) -> score every customer.

`run_pipeline` is the nightly rebuild; `score_customer` refreshes one customer between runs with the
models the last run fitted (`PipelineOutputs.models`, which the service pickles onto the run).
Models that the data cannot support (too few repeat buyers for CLV, too little history for churn,
too few customers for clusters) are skipped with a warning instead of failing the run; their
profile columns are then empty.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .churn import (
    BGNBDEvidence,
    bgnbd_history,
    churn_horizon,
    churn_training_frame,
    describe_population,
    history_from_summary,
    judgeable_snapshots,
    train_churn_model,
)
from .clean import clean_events, clean_orders
from .clusters import ClusterInfo, fit_clusters
from .clv import BGNBDParams, fit_bgnbd, fit_gamma_gamma, rfm_summary
from .evaluation import (
    evaluate_forecast,
    evaluate_offers,
    evaluation_summary,
    holdout_cutoff,
    orders_before,
)
from .features import customer_features
from .frames import as_of_cutoff, conform, share_customer_ids
from .rfm import fit_rfm_reference
from .rules import association_rules, popular_categories
from .scoring import (
    CleanInputs,
    PipelineModels,
    PipelineParams,
    churn_fit_report,
    model_reports,
    score_profiles,
    segment_summary,
)


@dataclass
class PipelineInputs:
    """Raw inputs; any may be omitted (None) or empty. Column conventions: see the package docstring."""

    customers: pd.DataFrame | None = None
    orders: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    interactions: pd.DataFrame | None = None
    campaign_responses: pd.DataFrame | None = None


@dataclass
class PipelineOutputs:
    """Everything a run produces: profile rows, segments, rules, offers, models and the run report."""

    profiles: pd.DataFrame
    segments: pd.DataFrame
    rules: pd.DataFrame
    offers: pd.DataFrame
    clusters: list[ClusterInfo]
    models: PipelineModels
    counts: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[step] = round(time.perf_counter() - started, 4)


def _clean(inputs: PipelineInputs, as_of: pd.Timestamp, params: PipelineParams) -> tuple[CleanInputs, dict]:
    # One shared id dtype for all inputs, first, turns every later per-customer step into integer work.
    customers, orders, events, interactions, responses = share_customer_ids(
        conform(inputs.customers, "customers"),
        conform(inputs.orders, "orders"),
        conform(inputs.events, "events"),
        conform(inputs.interactions, "interactions"),
        conform(inputs.campaign_responses, "campaign_responses"),
    )
    events, event_counts = clean_events(
        events,
        as_of=as_of,
        max_events_per_minute=params.max_events_per_minute,
        history_start=params.history_start,
        timezone=params.timezone,
    )
    orders, order_counts = clean_orders(
        orders, as_of=as_of, history_start=params.history_start, timezone=params.timezone
    )
    data = CleanInputs(
        customers=customers,
        orders=orders,
        events=events,
        interactions=interactions,
        campaign_responses=responses,
    )
    return data, {"events_dropped": event_counts, "orders_dropped": order_counts}


def clean_inputs(
    inputs: PipelineInputs, *, as_of: object, params: PipelineParams | None = None
) -> CleanInputs:
    """The inputs conformed and cleaned exactly as `fit_models` sees them (for benchmarks and notebooks)."""
    params = params or PipelineParams()
    data, _counts = _clean(inputs, as_of_cutoff(as_of, timezone=params.timezone), params)
    return data


def _fit_clv(
    orders: pd.DataFrame,
    as_of: pd.Timestamp,
    params: PipelineParams,
    warnings: list[str],
    *,
    spend: bool = True,
    summary: pd.DataFrame | None = None,
) -> tuple:
    """(BG/NBD, Gamma-Gamma) fitted as of `as_of`; spend=False skips Gamma-Gamma (None). `summary`:
    the orders' rfm_summary as of `as_of`, when the caller has it already."""
    if summary is None:
        summary = rfm_summary(
            orders, as_of=as_of, time_unit_days=params.time_unit_days, timezone=params.timezone
        )
    repeaters = int((summary["frequency"] > 0).sum())
    if repeaters < params.clv_min_repeat_buyers:
        warnings.append(f"CLV skipped: {repeaters} repeat buyers, need {params.clv_min_repeat_buyers}")
        return None, None
    if len(summary) > params.clv_fit_sample_size:
        summary = summary.sample(n=params.clv_fit_sample_size, random_state=params.random_state)
    bg = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"], penalizer=params.clv_penalizer)
    if not spend:
        if not bg.converged:
            warnings.append("BG/NBD fit did not converge cleanly; parameters may sit on a bound")
        return bg, None
    gg = fit_gamma_gamma(summary["frequency"], summary["monetary_value"], penalizer=params.clv_penalizer)
    for name, fitted in (("BG/NBD", bg), ("Gamma-Gamma", gg)):
        if not fitted.converged:
            warnings.append(f"{name} fit did not converge cleanly; parameters may sit on a bound")
    return bg, gg


def _held_out_bgnbd(
    orders: pd.DataFrame, cutoff: pd.Timestamp, params: PipelineParams, served: BGNBDParams | None
) -> BGNBDEvidence:
    """BG/NBD fitted as _fit_clv fits it, but on the orders before the held-out cutoff, with every
    customer's inputs then: the churn BG/NBD implies for the held-out snapshot, scored beside the model."""
    summary = rfm_summary(
        orders, as_of=cutoff, time_unit_days=params.time_unit_days, timezone=params.timezone
    )
    history = history_from_summary(summary, time_unit_days=params.time_unit_days)
    # Fitted as the run fits it; a skipped or shaky held-out fit is evidence, not a run warning.
    fitted, _ = _fit_clv(orders, cutoff, params, [], spend=False, summary=summary)
    return BGNBDEvidence(
        held_out=fitted, history=history, served=served, time_unit_days=params.time_unit_days
    )


def _fit_churn(
    data: CleanInputs,
    features: pd.DataFrame,
    as_of: pd.Timestamp,
    params: PipelineParams,
    bgnbd: BGNBDParams | None,
    warnings: list[str],
) -> tuple:
    days = churn_horizon(data.orders, minimum_days=params.churn_horizon_days)
    horizon = pd.Timedelta(days=days)
    frame = churn_training_frame(
        data.orders,
        data.events,
        cutoff=[as_of - 2 * horizon, as_of - horizon],
        horizon_days=days,
        interactions=data.interactions,
        campaign_responses=data.campaign_responses,
        customers=data.customers,
        timezone=params.timezone,
    )
    # Fitted and scored on the customers it will be served to: those not too new to tell.
    frame = judgeable_snapshots(frame, horizon_days=days, timezone=params.timezone)
    if len(frame) < params.churn_min_customers:
        warnings.append(
            f"churn model skipped: {len(frame)} labelled snapshots, need {params.churn_min_customers}"
        )
        return None, {
            "roc_auc": None,
            "auc_reason": "too little purchase history",
            "n_train": len(frame),
            "window_days": days,
            "served": None,
            "scores": {},
            "reliability": [],
            "importances": [],
            "beats_baseline": False,
            "calibration": "none",
        }
    evidence = _held_out_bgnbd(data.orders, as_of - horizon, params, bgnbd)
    model, metrics = train_churn_model(frame, random_state=params.random_state, bgnbd=evidence)
    now = bgnbd_history(
        data.orders, as_of=as_of, time_unit_days=params.time_unit_days, timezone=params.timezone
    )
    model = describe_population(model, features, now)
    metrics["fit"] = churn_fit_report(model, frame)
    return model, metrics


def _mine_rules(orders: pd.DataFrame, params: PipelineParams) -> pd.DataFrame:
    return association_rules(
        orders,
        min_support=params.rules_min_support,
        min_confidence=params.rules_min_confidence,
        max_len=params.rules_max_len,
    )


def _evaluate(
    data: CleanInputs, as_of: pd.Timestamp, params: PipelineParams, warnings: list[str]
) -> dict[str, Any]:
    """metrics["evaluation"]: BG/NBD and the rules refitted, the run's way, on the orders before the
    holdout and scored on it against their naive baselines (evaluation.py)."""
    cutoff = holdout_cutoff(as_of, params.evaluation_holdout_days)
    before = orders_before(data.orders, cutoff)
    summary = rfm_summary(
        before, as_of=cutoff, time_unit_days=params.time_unit_days, timezone=params.timezone
    )
    fit_warnings: list[str] = []
    bg, _ = _fit_clv(before, cutoff, params, fit_warnings, spend=False, summary=summary)
    if bg is not None:  # a skipped fit is the forecast's "reason", not a run warning
        warnings.extend(f"holdout evaluation: {warning}" for warning in fit_warnings)
    forecast = evaluate_forecast(
        data.orders,
        bgnbd=bg,
        cutoff=cutoff,
        as_of=as_of,
        time_unit_days=params.time_unit_days,
        timezone=params.timezone,
        summary=summary,
    )
    offers = evaluate_offers(
        data.orders, rules=_mine_rules(before, params), cutoff=cutoff, as_of=as_of, top_n=params.offers_top_n
    )
    return evaluation_summary(
        holdout_days=params.evaluation_holdout_days, cutoff=cutoff, forecast=forecast, offers=offers
    )


@dataclass
class FittedModels:
    """What `fit_models` returns: the models plus the cleaned data and features it fitted them on."""

    models: PipelineModels
    data: CleanInputs
    features: pd.DataFrame
    counts: dict[str, Any]
    metrics: dict[str, Any]
    timings: dict[str, float]
    warnings: list[str]


def fit_models(
    inputs: PipelineInputs,
    *,
    as_of: object,
    params: PipelineParams | None = None,
    previous: PipelineModels | None = None,
) -> FittedModels:
    """Clean all inputs, build features and fit every population-level model as of `as_of`; `previous`,
    the last run's models, keeps the cluster ids of clusters that stayed where they were."""
    params = params or PipelineParams()
    # The exclusive cutoff: a date D is all of D in the server's time zone (params.timezone).
    moment = as_of_cutoff(as_of, timezone=params.timezone)
    timings: dict[str, float] = {}
    warnings: list[str] = []
    metrics: dict[str, Any] = {}
    with _timed(timings, "clean"):
        data, counts = _clean(inputs, moment, params)
    with _timed(timings, "features"):
        features = customer_features(
            data.orders,
            data.events,
            data.interactions,
            data.campaign_responses,
            as_of=moment,
            customers=data.customers,
            timezone=params.timezone,
        )
    with _timed(timings, "rfm"):
        reference = fit_rfm_reference(features)
    with _timed(timings, "clv"):
        bg, gg = _fit_clv(data.orders, moment, params, warnings)
    with _timed(timings, "churn"):
        churn_model, metrics["churn"] = _fit_churn(data, features, moment, params, bg, warnings)
    with _timed(timings, "clusters"):
        _, cluster_model = fit_clusters(
            features,
            k_range=params.k_range,
            sample_size=params.cluster_sample_size,
            random_state=params.random_state,
            min_share=params.cluster_min_share,
            bootstrap_samples=params.cluster_bootstrap_samples,
            previous=previous.clusters if previous is not None else None,
        )
        warnings.extend(cluster_model.warnings)
    with _timed(timings, "rules"):
        rules = _mine_rules(data.orders, params)
        popular = popular_categories(data.orders)
    with _timed(timings, "evaluation"):
        metrics["evaluation"] = _evaluate(data, moment, params, warnings)
    models = PipelineModels(
        as_of=moment,
        params=params,
        rfm_reference=reference,
        bgnbd=bg,
        gamma_gamma=gg,
        churn=churn_model,
        clusters=cluster_model,
        rules=rules,
        # A model that lost to its naive baseline on the holdout is not served; the baseline is.
        forecast_source=metrics["evaluation"]["served"]["forecast"],
        offer_source=metrics["evaluation"]["served"]["offers"],
        popular_categories=popular,
    )
    metrics["bgnbd"] = (
        None if bg is None else {k: getattr(bg, k) for k in ("r", "alpha", "a", "b", "log_likelihood")}
    )
    metrics["gamma_gamma"] = (
        None if gg is None else {k: getattr(gg, k) for k in ("p", "q", "v", "log_likelihood")}
    )
    metrics["clusters"] = dict(cluster_model.report or {})
    metrics["rules"] = {"count": len(rules)}
    metrics["models"] = model_reports(bg, gg, metrics["churn"])
    counts.update(orders=len(data.orders), events=len(data.events))
    return FittedModels(models, data, features, counts, metrics, timings, warnings)


def run_pipeline(
    inputs: PipelineInputs,
    *,
    as_of: object,
    params: PipelineParams | None = None,
    previous: PipelineModels | None = None,
) -> PipelineOutputs:
    """Fit every model and score every customer as of `as_of` (see the module docstring and fit_models)."""
    fitted = fit_models(inputs, as_of=as_of, params=params, previous=previous)
    models = fitted.models
    with _timed(fitted.timings, "score"):
        profiles, offers = score_profiles(models, fitted.data, fitted.features, as_of=models.as_of)
    counts = {
        **fitted.counts,
        "customers": len(profiles),
        "buyers": int((profiles["frequency"] > 0).sum()),
        "offers": len(offers),
    }
    return PipelineOutputs(
        profiles=profiles,
        segments=segment_summary(profiles, models.clusters.infos),
        rules=models.rules,
        offers=offers,
        clusters=models.clusters.infos,
        models=models,
        counts=counts,
        metrics=fitted.metrics,
        timings=fitted.timings,
        warnings=fitted.warnings,
    )


def _only(frame: pd.DataFrame | None, customer_ids: pd.Index) -> pd.DataFrame | None:
    if frame is None or "customer_id" not in frame.columns:
        return frame
    return frame[frame["customer_id"].astype("str").isin(customer_ids)]


def score_customers(
    models: PipelineModels,
    inputs: PipelineInputs,
    *,
    as_of: object,
    customer_ids: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(profiles, offers) for `customer_ids` (default: everyone in `inputs`) with already fitted models.

    For scoring a run chunk by chunk, or refreshing customers between runs: `inputs` need only hold
    those customers' rows. RFM scores stay relative to the population the models were fitted on, and
    every customer asked for gets a row, even one without any data yet.
    """
    moment = as_of_cutoff(as_of, timezone=models.params.timezone)
    if customer_ids is not None:
        wanted = pd.Index([str(c) for c in customer_ids], dtype="str").unique()
        inputs = PipelineInputs(
            customers=_only(inputs.customers, wanted),
            orders=_only(inputs.orders, wanted),
            events=_only(inputs.events, wanted),
            interactions=_only(inputs.interactions, wanted),
            campaign_responses=_only(inputs.campaign_responses, wanted),
        )
    data, _ = _clean(inputs, moment, models.params)
    known = data.customers
    if customer_ids is not None:
        known = pd.concat([known, pd.DataFrame({"customer_id": wanted})], ignore_index=True)
    features = customer_features(
        data.orders,
        data.events,
        data.interactions,
        data.campaign_responses,
        as_of=moment,
        customers=known,
        timezone=models.params.timezone,
    )
    if customer_ids is not None:
        features = features.loc[wanted]
    return score_profiles(models, data, features, as_of=moment)


def score_customer(
    models: PipelineModels, inputs: PipelineInputs, *, customer_id: str, as_of: object
) -> pd.DataFrame:
    """One customer's refreshed profile row (same columns as `run_pipeline` profiles); see score_customers."""
    profiles, _ = score_customers(models, inputs, as_of=as_of, customer_ids=[str(customer_id)])
    return profiles
