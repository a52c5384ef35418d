"""The purchase forecast and the next best offers measured against naive baselines on held-out data.

Every run holds out the last `PipelineParams.evaluation_holdout_days` (H) days: cutoff = as_of - H.
The models are refitted on the orders before the cutoff exactly as the run fits them (`run._fit_clv`,
`rules.association_rules` with the run's parameters) and asked about [cutoff, as_of), which they never
saw. Only customers who bought before the cutoff are evaluated (nobody can forecast a first purchase
from a history that does not exist yet).

Forecast: purchases are transaction days, as BG/NBD counts them (several orders on one local day are
one purchase). Per evaluated customer, the prediction for the H days after the cutoff is compared with
the purchase days the customer really had in [cutoff, as_of):
- "model": BG/NBD's expected purchases in H days given the history before the cutoff;
- "same_rate": the customer keeps buying as before: repeat purchase days per day of history x H, where
  the history runs from the first purchase day to the cutoff's as-of day (the first purchase opens the
  history, as it opens BG/NBD's clock, so a customer who bought once is forecast 0, not 1 per day);
- "zero": nobody buys again.
Scores are the per-customer mean absolute error (MAE). beats_baseline = model MAE < both baselines'.
Served: "same_rate" when it has the lower MAE, otherwise "model" (predicting zero is a yardstick, never
an answer a card would show).

Offers: hit = the customer bought an offered category in the holdout. The hit rate counts the customers
who got at least one rule offer from their purchases before the cutoff; the "most popular categories"
baseline (`rules.popular_offers`: the top_n categories most customers bought before the cutoff that
the customer had not bought, the same exclusion the rule offers use) is scored on the same customers.
Served: "popular" when its hit rate is higher, otherwise "rules".

When the data cannot support a holdout (too few customers before the cutoff, no purchases in the
holdout, too few customers with a rule offer), that part is None and a reason says why; the model is
then served.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .clv import BGNBDParams, expected_purchases, rfm_summary
from .frames import as_of_day, id_categories, id_codes, local_days, share_customer_ids
from .rules import offers_from_purchases, popular_categories, popular_offers, purchase_pairs, sorted_unique

# What a run may serve as its forecast; the offers' sources are rules.OFFER_SOURCES.
FORECAST_SOURCES = ("model", "same_rate")
# A mean absolute error over fewer customers is a handful of people's luck, not a model's quality, and
# would switch the whole run's served forecast on it; the churn model asks for as many (churn_min_customers).
MIN_FORECAST_CUSTOMERS = 20
# The same for the hit rate: below this many customers with an offer one hit moves the rate by > 5 points.
MIN_OFFER_CUSTOMERS = 20

# Why a part could not be measured: a stable code (for the run page to translate) -> the stored English
# sentence, formatted with the counts.
UNMEASURED: dict[str, str] = {
    "no_model": "BG/NBD could not be fitted on the orders before the holdout",
    "few_customers": "{count} customers bought before the holdout, need {needed}",
    "no_purchases": "no purchases in the holdout by customers who bought before it",
    "few_offered": "{count} customers got an offer from the rules before the holdout, need {needed}",
    "no_category_purchases": "no category purchases in the holdout by customers with an offer",
}
Unmeasured = dict[str, Any]


def _unmeasured(code: str, **counts: int) -> tuple[None, Unmeasured]:
    """(None, {"code", "message", and the counts}) for a part the data cannot support."""
    return None, {"code": code, "message": UNMEASURED[code].format(**counts), **counts}


def holdout_cutoff(as_of: pd.Timestamp, days: int) -> pd.Timestamp:
    """The start of the holdout: `days` days before the exclusive cutoff `as_of` (the churn split's
    arithmetic: whole days of 24 hours, so a date-cutoff at local midnight gives a local midnight)."""
    return as_of - pd.Timedelta(days=int(days))


def orders_before(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The order lines strictly before `cutoff` (what the models are refitted on)."""
    return orders[orders["ordered_at"].lt(cutoff)]


def same_rate_per_day(frequency: ArrayLike, age_days: ArrayLike) -> NDArray[np.float64]:
    """Repeat purchase days per day since the first purchase (BG/NBD's x / T in days); 0 when T = 0."""
    x, age = np.asarray(frequency, dtype=np.float64), np.asarray(age_days, dtype=np.float64)
    return np.divide(x, age, out=np.zeros_like(x), where=age > 0)


def _holdout_purchase_days(
    orders: pd.DataFrame, *, cutoff: pd.Timestamp, as_of: pd.Timestamp, timezone: str
) -> pd.Series:
    """Distinct local purchase days per customer in [cutoff, as_of) (index customer_id as str)."""
    window = orders[orders["ordered_at"].ge(cutoff) & orders["ordered_at"].lt(as_of)]
    window = window[window["customer_id"].notna()]
    if window.empty:
        return pd.Series(dtype="float64")
    (window,) = share_customer_ids(window)
    customer = id_codes(window)
    day = local_days(window["ordered_at"], timezone)
    span = int(day.max()) - int(day.min()) + 1
    keys = sorted_unique(customer * span + (day - int(day.min())))
    counts = np.bincount(keys // span, minlength=len(id_categories(window))).astype(np.float64)
    index = pd.Index(id_categories(window), dtype="str")
    return pd.Series(counts, index=index)[counts > 0]


def evaluate_forecast(
    orders: pd.DataFrame,
    *,
    bgnbd: BGNBDParams | None,
    cutoff: pd.Timestamp,
    as_of: pd.Timestamp,
    time_unit_days: float,
    timezone: str = "UTC",
    min_customers: int = MIN_FORECAST_CUSTOMERS,
    summary: pd.DataFrame | None = None,
) -> tuple[dict[str, Any] | None, Unmeasured | None]:
    """(the contract's metrics["evaluation"]["forecast"], None) or (None, why: see UNMEASURED); `bgnbd`
    is the model fitted on the orders before `cutoff`, `orders` the cleaned lines up to `as_of`,
    `summary` their rfm_summary as of `cutoff` when the caller has it already."""
    if bgnbd is None:
        return _unmeasured("no_model")
    if summary is None:
        summary = rfm_summary(orders, as_of=cutoff, time_unit_days=time_unit_days, timezone=timezone)
    if len(summary) < min_customers:
        return _unmeasured("few_customers", count=len(summary), needed=min_customers)
    actual = (
        _holdout_purchase_days(orders, cutoff=cutoff, as_of=as_of, timezone=timezone)
        .reindex(summary.index, fill_value=0.0)
        .to_numpy(dtype=np.float64)
    )
    if not actual.any():
        return _unmeasured("no_purchases")
    horizon_days = as_of_day(as_of, timezone) - as_of_day(cutoff, timezone)
    x, t_x, big_t = (summary[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T"))
    predictions = {
        "model": expected_purchases(bgnbd, horizon_days / time_unit_days, x, t_x, big_t),
        "same_rate": same_rate_per_day(x, big_t * time_unit_days) * horizon_days,
        "zero": np.zeros(len(actual)),
    }
    mae = {name: float(np.abs(predicted - actual).mean()) for name, predicted in predictions.items()}
    return {
        "horizon_days": int(horizon_days),
        "n_customers": len(actual),
        "mae": mae,
        "beats_baseline": mae["model"] < min(mae["same_rate"], mae["zero"]),
        "served": "same_rate" if mae["same_rate"] < mae["model"] else "model",
    }, None


def _hit_customers(offers: pd.DataFrame, bought: pd.DataFrame) -> pd.Index:
    hits = offers[["customer_id", "category"]].merge(bought, on=["customer_id", "category"])
    return pd.Index(hits["customer_id"].unique())


def evaluate_offers(
    orders: pd.DataFrame,
    *,
    rules: pd.DataFrame,
    cutoff: pd.Timestamp,
    as_of: pd.Timestamp,
    top_n: int,
    min_customers: int = MIN_OFFER_CUSTOMERS,
) -> tuple[dict[str, Any] | None, Unmeasured | None]:
    """(the contract's metrics["evaluation"]["offers"], None) or (None, why: see UNMEASURED); `rules`
    are mined on the orders before `cutoff`, `orders` are the cleaned lines up to `as_of`."""
    # Offers depend only on who owns what: the distinct pairs stand in for the lines throughout.
    owned = purchase_pairs(orders_before(orders, cutoff))
    offers = offers_from_purchases(rules, owned["customer_id"], owned["category"], top_n=top_n)
    offered = pd.Index(offers["customer_id"].unique())
    if len(offered) < min_customers:
        return _unmeasured("few_offered", count=len(offered), needed=min_customers)
    window = orders[orders["ordered_at"].ge(cutoff) & orders["ordered_at"].lt(as_of)]
    bought = purchase_pairs(window)
    bought = bought.assign(customer_id=bought["customer_id"].astype("str"))
    bought = bought[bought["customer_id"].isin(offered)]
    if bought.empty:
        return _unmeasured("no_category_purchases")
    # The baseline for the same customers, from the same purchases before the cutoff.
    mine = owned[owned["customer_id"].isin(offered)]
    baseline = popular_offers(popular_categories(owned), mine["customer_id"], mine["category"], top_n=top_n)
    n = len(offered)
    hit_rate = {
        "model": len(_hit_customers(offers, bought)) / n,
        "popular": len(_hit_customers(baseline, bought)) / n,
    }
    return {
        "n_customers": n,
        "hit_rate": hit_rate,
        "beats_baseline": hit_rate["model"] > hit_rate["popular"],
        "served": "popular" if hit_rate["popular"] > hit_rate["model"] else "rules",
    }, None


def evaluation_summary(
    *,
    holdout_days: int,
    cutoff: pd.Timestamp,
    forecast: tuple[dict[str, Any] | None, Unmeasured | None],
    offers: tuple[dict[str, Any] | None, Unmeasured | None],
) -> dict[str, Any]:
    """metrics["evaluation"]: the contract's "forecast" and "offers" (None when not measurable), why
    not ("reason": the parts' messages in one sentence, None when both were measured; "reasons": per
    part None or {"code" (UNMEASURED), "message", counts}), and what the run serves ("served":
    {"forecast": ..., "offers": ...}, the model when not measured)."""
    (forecast_result, forecast_reason), (offers_result, offers_reason) = forecast, offers
    reasons = {"forecast": forecast_reason, "offers": offers_reason}
    said = [f"{part}: {reason['message']}" for part, reason in reasons.items() if reason]
    return {
        "holdout_days": int(holdout_days),
        "cutoff": cutoff.isoformat(),
        "forecast": forecast_result,
        "offers": offers_result,
        "reason": "; ".join(said) if said else None,
        "reasons": reasons,
        "served": {
            "forecast": forecast_result["served"] if forecast_result else "model",
            "offers": offers_result["served"] if offers_result else "rules",
        },
    }
