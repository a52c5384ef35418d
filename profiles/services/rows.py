"""Turning the pipeline's profile frame into CustomerProfile rows (vectorised, chunk by chunk)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from crm_site.bulk import build_instances, field_defaults
from profiles.models import CustomerProfile

HORIZON_COLUMN = re.compile(r"expected_purchases_(\d+)d")
CLV_EDGES = (0, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
STAGED_COLUMNS = (
    "customer_id",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "recency_days",
    "frequency",
    "monetary",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "forecast",
    "model_frequency",
    "model_recency_days",
    "model_age_days",
    "p_alive",
    "expected_avg_value",
    "clv_12m",
    "clv_bucket",
    "churn_risk",
    "churn_bucket",
    "churn_status",
    "churn_band",
    "explanation",
    "cluster",
    "cluster_name",
    "interests",
    "interests_text",
    "next_best_offers",
    "offers_text",
    "preferred_channel",
    "preferred_hour",
    "preferred_weekday",
    "age_band",
    "region",
    "gender",
)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")


def _text(series: pd.Series) -> pd.Series:
    return series.astype("object").where(series.notna(), "").astype("str").replace({"nan": "", "<NA>": ""})


def _bars(lists: pd.Series) -> pd.Series:
    """["a", "b"] -> "|a|b|" (truncated to the column width)."""
    return lists.map(lambda items: ("|" + "|".join(map(str, items)) + "|")[:255] if items else "")


# The stored values of the churn columns (profiles.models.ChurnStatus / ChurnBand); anything else, or a
# pipeline that did not produce the column, is stored blank ("not said") rather than refused.
CHURN_STATUSES = ("scored", "too_new", "never_bought")
CHURN_BANDS = ("low", "medium", "high")
# The keys of each explanation item kept (others are dropped: the card shows only these).
FACTOR_KEYS = ("feature", "value", "typical", "effect")
OFFER_REASON_KEYS = ("category", "because", "lift", "confidence", "source")


def _choice(series: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    text = _text(series)
    return text.where(text.isin(allowed), "")


def _plain(value: Any) -> Any:
    """A JSON-safe Python value: numpy scalars to int/float, NaN/inf to None, sequences to lists."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item) for item in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if not np.isfinite(number) else round(number, 4)
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _items(value: Any, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple | np.ndarray):
        return []
    return [{key: _plain(item.get(key)) for key in keys} for item in value if isinstance(item, dict)]


def _explanations(frame: pd.DataFrame) -> list[dict[str, list[dict[str, Any]]]]:
    """Per row {"churn_factors": [...], "offer_reasons": [...]} from the pipeline's list columns ([] when
    a column is absent or a cell is not a list of dicts)."""
    factors = _column(frame, "churn_factors")
    reasons = _column(frame, "offer_reasons")
    return [
        {"churn_factors": _items(f, FACTOR_KEYS), "offer_reasons": _items(r, OFFER_REASON_KEYS)}
        for f, r in zip(factors.tolist(), reasons.tolist(), strict=True)
    ]


def _forecasts(frame: pd.DataFrame) -> list[dict[str, dict[str, float | None]]]:
    """Per row {"<days>": {"purchases": x, "spend": y}} over every expected_purchases_<days>d column."""
    horizons = sorted(
        int(match.group(1))
        for name in frame.columns
        if (match := HORIZON_COLUMN.fullmatch(str(name))) is not None
    )
    if not horizons:
        return [{} for _row in range(len(frame))]
    parts = []
    for days in horizons:
        purchases = pd.to_numeric(frame[f"expected_purchases_{days}d"], errors="coerce").round(4)
        spend = pd.to_numeric(_column(frame, f"expected_spend_{days}d"), errors="coerce").round(2)
        parts.append((str(days), _python_values(purchases), _python_values(spend)))
    return [
        {key: {"purchases": purchases[row], "spend": spend[row]} for key, purchases, spend in parts}
        for row in range(len(frame))
    ]


# The contact features shown on a profile (interests["contact"]), rounded as shown; None where undefined.
CONTACT_KEYS = {
    "contacts_90d": 0,
    "contacts_per_month": 2,
    "days_since_contact": 0,
    "complaint_rate": 3,
    "complaints_90d": 0,
    "inbound_share": 3,
    "inbound_outbound_ratio": 2,
}


def _contacts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per row {"contacts_90d": 2, ..., "channels": {"call": 0.5, ...}} (channels with a share only)."""
    from profiles.pipeline.interactions import MAIN_CHANNELS

    keys = list(CONTACT_KEYS)
    values = [
        _python_values(pd.to_numeric(_column(frame, key), errors="coerce").round(digits))
        for key, digits in CONTACT_KEYS.items()
    ]
    shares = [
        _python_values(pd.to_numeric(_column(frame, f"share_{channel}"), errors="coerce").round(3))
        for channel in MAIN_CHANNELS
    ]
    rows = []
    for row in range(len(frame)):
        contact = {key: column[row] for key, column in zip(keys, values, strict=True)}
        contact["channels"] = {
            channel: column[row] for channel, column in zip(MAIN_CHANNELS, shares, strict=True) if column[row]
        }
        rows.append(contact)
    return rows


def staged_frame(profiles: pd.DataFrame) -> pd.DataFrame:
    """The pipeline's profile columns renamed and typed for CustomerProfile; index dropped."""
    frame = profiles.reset_index() if "customer_id" not in profiles.columns else profiles.copy()
    out = pd.DataFrame({"customer_id": frame["customer_id"].astype("str")})
    for name in ("r_score", "f_score", "m_score", "cluster", "preferred_hour", "preferred_weekday"):
        out[name] = pd.to_numeric(_column(frame, name), errors="coerce").astype("Int64")
    out["rfm_segment"] = _text(_column(frame, "rfm_segment"))
    out["recency_days"] = pd.to_numeric(_column(frame, "recency_days"), errors="coerce")
    out["frequency"] = pd.to_numeric(_column(frame, "frequency"), errors="coerce").fillna(0).astype("int64")
    out["monetary"] = pd.to_numeric(_column(frame, "monetary_total"), errors="coerce").fillna(0).round(2)
    # The pipeline names these after PipelineParams.expected_purchases_days.
    for days in (90, 365):
        name = f"expected_purchases_{days}d"
        out[name] = pd.to_numeric(_column(frame, name), errors="coerce")
    out["forecast"] = _forecasts(frame)
    out["model_frequency"] = pd.to_numeric(_column(frame, "model_frequency"), errors="coerce").astype("Int64")
    for name in ("model_recency_days", "model_age_days"):
        out[name] = pd.to_numeric(_column(frame, name), errors="coerce").round(4)
    out["p_alive"] = pd.to_numeric(_column(frame, "probability_alive"), errors="coerce")
    out["expected_avg_value"] = pd.to_numeric(
        _column(frame, "expected_average_value"), errors="coerce"
    ).round(2)
    clv = pd.to_numeric(_column(frame, "clv"), errors="coerce").round(2)
    out["clv_12m"] = clv
    out["clv_bucket"] = (
        pd.Series(
            np.searchsorted(CLV_EDGES, clv.clip(lower=0).fillna(0).to_numpy(), side="right") - 1,
            index=out.index,
        )
        .where(clv.notna())
        .astype("Int64")
    )
    churn = pd.to_numeric(_column(frame, "churn_probability"), errors="coerce").clip(0, 1)
    out["churn_risk"] = churn
    out["churn_bucket"] = (churn * 10).clip(upper=9.999).apply(np.floor).astype("Int64")
    out["churn_status"] = _choice(_column(frame, "churn_status"), CHURN_STATUSES)
    out["churn_band"] = _choice(_column(frame, "churn_band"), CHURN_BANDS)
    out["explanation"] = _explanations(frame)
    out["cluster_name"] = _text(_column(frame, "cluster_name"))
    categories = _column(frame, "top_categories").map(
        lambda v: list(v) if isinstance(v, list | tuple) else []
    )
    terms = _column(frame, "top_search_terms").map(lambda v: list(v) if isinstance(v, list | tuple) else [])
    offers = _column(frame, "next_best_offers").map(lambda v: list(v) if isinstance(v, list | tuple) else [])
    # The contact features ride in the interests JSON (no column of their own: no migration needed).
    out["interests"] = [
        {"categories": c, "search_terms": t, "contact": contact}
        for c, t, contact in zip(categories, terms, _contacts(frame), strict=True)
    ]
    out["interests_text"] = _bars(categories)
    out["next_best_offers"] = offers
    out["offers_text"] = _bars(offers)
    for name in ("preferred_channel", "age_band", "region", "gender"):
        out[name] = _text(_column(frame, name)).str.slice(0, 60)
    return out[list(STAGED_COLUMNS)].reset_index(drop=True)


def _python_values(series: pd.Series) -> list[Any]:
    """The column as Python values (int, float, str, list), None where missing, in one pass."""
    return series.astype("object").where(series.notna(), None).tolist()


def profile_objects(
    staged: pd.DataFrame, *, run_id: Any, chunk: int, computed_at: datetime
) -> list[CustomerProfile]:
    """CustomerProfile instances (unsaved) for the staged rows of one chunk.

    Built column-wise and without Model.__init__ (which was most of the write time at 100,000 rows):
    the staged values were typed by staged_frame, and every other concrete field gets its default.
    """
    names = list(staged.columns)
    columns = [_python_values(staged[name]) for name in names]
    defaults = field_defaults(CustomerProfile) | {
        "run_id": run_id,
        "chunk": chunk,
        "computed_at": computed_at,
    }
    rows = (
        {**dict(zip(names, values, strict=True)), "id": uuid.uuid4()} for values in zip(*columns, strict=True)
    )
    return build_instances(CustomerProfile, defaults, rows)


def profile_update_fields() -> list[str]:
    return [name for name in STAGED_COLUMNS if name != "customer_id"] + ["refreshed_at"]
