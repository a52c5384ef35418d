"""What the portrait card and the run page say in words (issue 14): no queries, only the profile and run
already loaded. Every piece reads the stored JSON defensively: a run or profile from before a key existed
shows what it has and leaves the rest out.

- ``portrait_explained``: the card's definitions, churn badge, RFM legend, segment rule, churn factors,
  offer reasons and the notes on baselines the run served.
- ``run_quality``: the run page's churn scores, reliability chart, importances, evaluation against the
  naive baselines, warnings, clusters and run-to-run stability.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from crm_site.templatetags.money import format_money
from profiles.pipeline.churn import CHURN_BANDS
from profiles.pipeline.rfm import _GRID, RFM_SEGMENT_LABELS

# --- The card -----------------------------------------------------------------------------------------

# Bootstrap badge per band: the band drives the colour, never the raw number; "too new" is grey.
BAND_BADGES = {"low": "text-bg-success", "medium": "text-bg-warning", "high": "text-bg-danger"}
BAND_LABELS = {
    "low": pgettext_lazy("churn risk", "low"),
    "medium": pgettext_lazy("churn risk", "medium"),
    "high": pgettext_lazy("churn risk", "high"),
}


@dataclass(frozen=True)
class FeatureText:
    """How one model feature reads: its short name (run page) and the card's sentence, with the kind of
    number it holds (days, count, money, share, decimal) for formatting its value and typical value."""

    name: Promise
    sentence: Promise
    kind: str


_CHANNEL_NAMES = {
    "call": gettext_lazy("phone calls"),
    "email": gettext_lazy("emails"),
    "chat": gettext_lazy("chats"),
    "wechat": gettext_lazy("WeChat messages"),
    "visit": gettext_lazy("visits"),
}

# The churn model's features in words (profiles.pipeline.features.PURCHASE_FEATURES and
# profiles.pipeline.interactions.INTERACTION_FEATURES); a feature not listed reads as its stored name.
FEATURE_TEXTS: dict[str, FeatureText] = {
    "recency_days": FeatureText(
        gettext_lazy("Days since last purchase"),
        gettext_lazy("Days since the last purchase: %(value)s (typical %(typical)s)"),
        "days",
    ),
    "frequency": FeatureText(
        gettext_lazy("Orders"), gettext_lazy("Orders so far: %(value)s (typical %(typical)s)"), "count"
    ),
    "monetary_total": FeatureText(
        gettext_lazy("Total spend"), gettext_lazy("Spent %(value)s in all (typical %(typical)s)"), "money"
    ),
    "monetary_avg": FeatureText(
        gettext_lazy("Average order value"),
        gettext_lazy("Average order %(value)s (typical %(typical)s)"),
        "money",
    ),
    "tenure_days": FeatureText(
        gettext_lazy("Days as a customer"),
        gettext_lazy("Days as a customer: %(value)s (typical %(typical)s)"),
        "days",
    ),
    # The BG/NBD inputs, which explain the risk when the run served BG/NBD (profiles.pipeline.explain).
    "model_frequency": FeatureText(
        gettext_lazy("Repeat purchase days"),
        gettext_lazy("Repeat purchase days: %(value)s (typical %(typical)s)"),
        "count",
    ),
    "model_age_days": FeatureText(
        gettext_lazy("Days since the first purchase"),
        gettext_lazy("Days since the first purchase: %(value)s (typical %(typical)s)"),
        "days",
    ),
    "orders_90d": FeatureText(
        gettext_lazy("Orders in the last 90 days"),
        gettext_lazy("Orders in the last 90 days: %(value)s (typical %(typical)s)"),
        "count",
    ),
    "spend_90d": FeatureText(
        gettext_lazy("Spend in the last 90 days"),
        gettext_lazy("Spent %(value)s in the last 90 days (typical %(typical)s)"),
        "money",
    ),
    "distinct_categories": FeatureText(
        gettext_lazy("Categories bought"),
        gettext_lazy("Categories bought: %(value)s (typical %(typical)s)"),
        "count",
    ),
    "contacts_90d": FeatureText(
        gettext_lazy("Contacts in the last 90 days"),
        gettext_lazy("Contacts in the last 90 days: %(value)s (typical %(typical)s)"),
        "count",
    ),
    "contacts_per_month": FeatureText(
        gettext_lazy("Contacts per month"),
        gettext_lazy("Contacts a month: %(value)s (typical %(typical)s)"),
        "decimal",
    ),
    "days_since_contact": FeatureText(
        gettext_lazy("Days since last contact"),
        gettext_lazy("Days since the last contact: %(value)s (typical %(typical)s)"),
        "days",
    ),
    "complaint_rate": FeatureText(
        gettext_lazy("Complaint rate"),
        gettext_lazy("Complaints are %(value)s of contacts (typical %(typical)s)"),
        "share",
    ),
    "complaints_90d": FeatureText(
        gettext_lazy("Complaints in the last 90 days"),
        gettext_lazy("Complaints in the last 90 days: %(value)s (typical %(typical)s)"),
        "count",
    ),
    "inbound_share": FeatureText(
        gettext_lazy("Contacts the customer started"),
        gettext_lazy("The customer started %(value)s of contacts (typical %(typical)s)"),
        "share",
    ),
    **{
        f"share_{channel}": FeatureText(
            gettext_lazy("Share of contacts: %(channel)s"),
            gettext_lazy("%(channel)s are %(value)s of contacts (typical %(typical)s)"),
            "share",
        )
        for channel in _CHANNEL_NAMES
    },
}


def _number(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    number = float(value)
    if kind == "money":
        return format_money(number, "base", decimals=0)
    if kind == "share":
        return f"{number_format(number * 100, decimal_pos=0)}%"
    if kind == "decimal":
        return number_format(number, decimal_pos=1)
    return number_format(round(number), decimal_pos=0, force_grouping=True)


def _channel(feature: str) -> str:
    return str(_CHANNEL_NAMES.get(feature.removeprefix("share_"), feature))


def feature_name(feature: str) -> str:
    """The short name of a model feature in the active language (the stored name when unknown)."""
    text = FEATURE_TEXTS.get(feature)
    if text is None:
        return feature
    return (
        str(text.name) % {"channel": _channel(feature)} if "%(channel)" in str(text.name) else str(text.name)
    )


def factor_sentence(factor: dict[str, Any]) -> str | None:
    """{"feature": "recency_days", "value": 240, "typical": 60, "effect": 0.22} -> "Last purchase 240
    days ago (typical 60) raises the risk by 22 points"; None for an item without a feature or effect."""
    feature, effect = factor.get("feature"), factor.get("effect")
    if not isinstance(feature, str) or not isinstance(effect, int | float):
        return None
    text = FEATURE_TEXTS.get(feature)
    kind = text.kind if text else "decimal"
    values = {
        "value": _number(factor.get("value"), kind),
        "typical": _number(factor.get("typical"), kind),
        "channel": _channel(feature).capitalize(),
    }
    fact = (
        str(text.sentence) % values
        if text
        else _("%(feature)s %(value)s (typical %(typical)s)") % (values | {"feature": feature})
    )
    points = round(abs(float(effect)) * 100)
    if points == 0:
        return _("%(fact)s barely changes the risk") % {"fact": fact}
    if effect > 0:
        return ngettext(
            "%(fact)s raises the risk by %(points)s point",
            "%(fact)s raises the risk by %(points)s points",
            points,
        ) % {"fact": fact, "points": points}
    return ngettext(
        "%(fact)s lowers the risk by %(points)s point",
        "%(fact)s lowers the risk by %(points)s points",
        points,
    ) % {"fact": fact, "points": points}


def offer_lines(offers: list[Any], reasons: list[Any]) -> list[dict[str, str]]:
    """Each next best offer with the rule behind it, when the run explained it: "bought A; customers
    who buy A buy B 3.1× as often", or "popular with customers like this" for the popular baseline."""
    by_category = {
        str(reason.get("category")): reason
        for reason in reasons
        if isinstance(reason, dict) and reason.get("category")
    }
    lines = []
    for offer in offers or []:
        reason = by_category.get(str(offer)) or {}
        because = [str(item) for item in reason.get("because") or []]
        lift = reason.get("lift")
        if reason.get("source") == "rules" and because and isinstance(lift, int | float):
            bought = " + ".join(because)
            why = _("bought %(bought)s; customers who buy %(bought)s buy %(offer)s %(lift)s× as often") % {
                "bought": bought,
                "offer": offer,
                "lift": number_format(float(lift), decimal_pos=1),
            }
        elif reason.get("source") == "popular":
            why = _("popular with customers like this")
        else:
            why = ""
        lines.append({"category": str(offer), "why": why})
    return lines


def _ranges(numbers: list[int]) -> str:
    """[2, 3] -> "2–3", [1] -> "1", [1, 2, 4] -> "1–2, 4"."""
    parts: list[str] = []
    start = previous = None
    for number in sorted(numbers):
        if start is None:
            start = previous = number
        elif previous is not None and number == previous + 1:
            previous = number
        else:
            parts.append(f"{start}" if start == previous else f"{start}–{previous}")
            start = previous = number
    if start is not None:
        parts.append(f"{start}" if start == previous else f"{start}–{previous}")
    return ", ".join(parts)


def segment_rule(segment: str) -> str:
    """The R/F grid cells of an RFM segment in words (profiles.pipeline.rfm's table), e.g. loyal ->
    "R 3–4 with F 4–5"; "" for an unknown segment."""
    rows: list[tuple[list[int], list[int]]] = []  # (R scores, F scores), adjacent R rows merged
    for r in sorted(_GRID, reverse=True):
        f_scores = [f for f, name in enumerate(_GRID[r], start=1) if name == segment]
        if not f_scores:
            continue
        if rows and rows[-1][1] == f_scores and rows[-1][0][-1] == r + 1:
            rows[-1][0].append(r)
        else:
            rows.append(([r], f_scores))
    cells = [_("R %(r)s with F %(f)s") % {"r": _ranges(r_scores), "f": _ranges(f)} for r_scores, f in rows]
    return _(" or ").join(cells)


def _rfm_legend(profile: Any) -> list[dict[str, Any]]:
    legend = []
    if profile.r_score is not None and profile.recency_days is not None:
        days = round(float(profile.recency_days))
        legend.append(
            {
                "key": "r",
                "text": _("R %(score)s: %(what)s")
                % {
                    "score": profile.r_score,
                    "what": ngettext("last purchase %(n)s day ago", "last purchase %(n)s days ago", days)
                    % {"n": number_format(days, force_grouping=True)},
                },
            }
        )
    if profile.f_score is not None:
        orders = int(profile.frequency or 0)
        legend.append(
            {
                "key": "f",
                "text": _("F %(score)s: %(what)s")
                % {
                    "score": profile.f_score,
                    "what": ngettext("%(n)s order", "%(n)s orders", orders)
                    % {"n": number_format(orders, force_grouping=True)},
                },
            }
        )
    if profile.m_score is not None:
        legend.append(
            {
                "key": "m",
                "text": _("M %(score)s: %(amount)s spent")
                % {"score": profile.m_score, "amount": format_money(profile.monetary, "base")},
            }
        )
    return legend


def churn_window_days(run: Any) -> int | None:
    """The run's churn window: metrics["churn"]["window_days"], else the horizon its churn model was
    trained on, else the pipeline parameter (None when the run records none of them)."""
    churn = (getattr(run, "metrics", None) or {}).get("churn") or {}
    fits = (getattr(run, "model_fits", None) or {}).get("churn") or {}
    params = (getattr(run, "fitted", None) or {}).get("params") or {}
    for value in (churn.get("window_days"), fits.get("horizon_days"), params.get("churn_horizon_days")):
        if isinstance(value, int | float) and value > 0:
            return int(value)
    return None


def _churn_badge(profile: Any) -> dict[str, Any]:
    """What the churn risk line shows: the number, the band (colour) and whether it was judged."""
    status = profile.churn_status or ""
    risk = profile.churn_risk
    if status == "too_new":
        return {"state": "too_new", "css": "text-bg-secondary", "text": _("too new to tell"), "percent": None}
    if status == "never_bought" or risk is None:
        return {"state": "none", "css": "", "text": "", "percent": None}
    # Rows stored before the pipeline wrote churn_band: the pipeline's edges (without its rules).
    band = profile.churn_band or next(name for name, edge in reversed(CHURN_BANDS) if risk >= edge)
    return {
        "state": "scored",
        "band": band,
        "band_label": str(BAND_LABELS.get(band, band)),
        "css": BAND_BADGES.get(band, "text-bg-secondary"),
        "percent": round(float(risk) * 100),
    }


# The card's note when a run served a baseline's answer because the model lost to it on held-out data:
# (part of metrics, where its "served" is, the served value) -> the note.
BASELINE_NOTES = (
    (
        ("churn",),
        "bgnbd",
        gettext_lazy(
            "Churn risk comes from the BG/NBD purchase model: "
            "the churn classifier did not beat it on held-out data."
        ),
    ),
    (
        ("churn",),
        "recency",
        gettext_lazy(
            "Churn risk comes from days since last purchase alone: "
            "the churn classifier did not beat it on held-out data."
        ),
    ),
    (
        ("evaluation", "forecast"),
        "same_rate",
        gettext_lazy(
            "Expected purchases repeat the customer's past rate: "
            "the forecast model did not beat it on held-out data."
        ),
    ),
    (
        ("evaluation", "offers"),
        "popular",
        gettext_lazy(
            "Next best offers are the most popular categories: the rules did not beat them on held-out data."
        ),
    ),
)


def baseline_notes(run: Any) -> list[str]:
    """A note for each answer on the card that comes from a baseline because the model lost to it."""
    notes = []
    for path, value, note in BASELINE_NOTES:
        part: Any = getattr(run, "metrics", None) or {}
        for key in path:
            part = part.get(key) if isinstance(part, dict) else None
        if isinstance(part, dict) and part.get("served") == value:
            notes.append(str(note))
    return notes


def portrait_explained(*, profile: Any, run: Any) -> dict[str, Any]:
    """Everything the card says in words about ``profile`` (of ``run``); no queries."""
    if profile is None:
        return {}
    explanation = profile.explanation if isinstance(profile.explanation, dict) else {}
    factors = [
        sentence
        for factor in explanation.get("churn_factors") or []
        if isinstance(factor, dict) and (sentence := factor_sentence(factor))
    ]
    window = churn_window_days(run)
    if window:
        churn_definition = ngettext(
            "chance of no purchase in the next %(n)s day",
            "chance of no purchase in the next %(n)s days",
            window,
        ) % {"n": window}
    else:
        churn_definition = _("chance of no purchase in the churn window")
    segment = profile.rfm_segment or ""
    return {
        "churn": _churn_badge(profile),
        "churn_definition": churn_definition,
        "alive_definition": _("chance the customer is still buying at all"),
        "rfm_legend": _rfm_legend(profile),
        "rfm_note": _("Scores are quintiles of this run's buyers, 5 = best."),
        "segment_rule": (
            _("%(segment)s: %(cells)s in the R/F grid (R = how recently, F = how often).")
            % {"segment": RFM_SEGMENT_LABELS.get(segment, segment), "cells": segment_rule(segment)}
            if segment in RFM_SEGMENT_LABELS
            else ""
        ),
        "churn_factors": factors[:3],
        "offers": offer_lines(profile.next_best_offers or [], explanation.get("offer_reasons") or []),
        "baseline_notes": baseline_notes(run),
    }


# --- The run page -------------------------------------------------------------------------------------

SCORE_LABELS = {
    "model": gettext_lazy("Churn classifier"),
    "bgnbd": gettext_lazy("BG/NBD (no purchase in the window)"),
    "recency": gettext_lazy("Days since last purchase alone"),
    "overall_rate": gettext_lazy("Overall churn rate"),
}
FORECAST_LABELS = {
    "model": gettext_lazy("BG/NBD forecast"),
    "same_rate": gettext_lazy("Same rate as before"),
    "zero": gettext_lazy("Predict zero"),
}
OFFER_LABELS = {
    "model": gettext_lazy("Association rules"),
    "popular": gettext_lazy("Most popular categories"),
}
# The reliability chart's drawing box (SVG user units; the chart scales to its container).
CHART = 100


def _percent(value: Any) -> int:
    return max(0, min(100, round(float(value) * 100))) if isinstance(value, int | float) else 0


def _reliability(bins: Any) -> list[dict[str, Any]]:
    """The stored bins with what the chart draws: a point at (predicted, observed) in the SVG box."""
    rows = []
    for item in bins if isinstance(bins, list) else []:
        if not isinstance(item, dict):
            continue
        predicted, observed = item.get("mean_predicted"), item.get("observed")
        if not isinstance(predicted, int | float) or not isinstance(observed, int | float):
            continue
        rows.append(
            {
                "lower": item.get("lower"),
                "upper": item.get("upper"),
                "predicted": predicted,
                "observed": observed,
                "count": item.get("count"),
                "x": round(float(predicted) * CHART, 2),
                "y": round(CHART - float(observed) * CHART, 2),
                "predicted_pct": _percent(predicted),
                "observed_pct": _percent(observed),
            }
        )
    return rows


def _importances(items: Any) -> list[dict[str, Any]]:
    rows = [
        item
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("importance"), int | float)
    ]
    rows.sort(key=lambda item: -float(item["importance"]))
    top = max((float(item["importance"]) for item in rows), default=0.0)
    return [
        {
            "feature": item.get("feature"),
            "label": feature_name(str(item.get("feature"))),
            "importance": item["importance"],
            # Bar width as a share of the largest (pct-N classes of crm.css; no inline style).
            "pct": _percent(float(item["importance"]) / top) if top > 0 else 0,
        }
        for item in rows
    ]


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _stability(stability: Any) -> dict[str, Any] | None:
    from profiles.services.changes import STABILITY_DATA_CHANGE, STABILITY_TARGET

    if not isinstance(stability, dict):
        return None
    compared = stability.get("compared") or 0
    new = stability.get("new_customers") or 0
    moved = stability.get("moved") or {}
    labels = {"churn_band": _("Churn band"), "rfm_segment": _("RFM segment"), "cluster": _("Cluster")}
    data_change = new / (compared + new) if compared + new else None
    rows = [
        {
            "kind": kind,
            "label": label,
            "share": moved.get(kind),
            "over_target": isinstance(moved.get(kind), int | float) and moved[kind] >= STABILITY_TARGET,
        }
        for kind, label in labels.items()
    ]
    return {
        "previous_run": stability.get("previous_run"),
        "previous_as_of": _moment(stability.get("previous_as_of")),
        "compared": compared,
        "new_customers": new,
        "data_change": data_change,
        "small_change": data_change is not None and data_change < STABILITY_DATA_CHANGE,
        "rows": rows,
        "missed": data_change is not None
        and data_change < STABILITY_DATA_CHANGE
        and any(row["over_target"] for row in rows),
        "target": _("target < %(moved)s moved when < %(changed)s of the data changed")
        % {
            "moved": f"{number_format(STABILITY_TARGET * 100, decimal_pos=0)}%",
            "changed": f"{number_format(STABILITY_DATA_CHANGE * 100, decimal_pos=0)}%",
        },
    }


def _evaluated(evaluation: dict[str, Any], key: str, measure: str) -> tuple[dict[str, Any] | None, str]:
    """One part of metrics["evaluation"] and why it is missing: None with a "reason" (beside it, as
    "<key>_reason" or "reason", or inside the part) when the data could not support the holdout."""
    part = evaluation.get(key)
    if isinstance(part, dict) and isinstance(part.get(measure), dict):
        return part, ""
    reason = (part or {}).get("reason") if isinstance(part, dict) else None
    return None, str(reason or evaluation.get(f"{key}_reason") or evaluation.get("reason") or "")


def run_quality(*, run: Any) -> dict[str, Any]:
    """The run page's measured quality of every model against its naive baseline; no queries."""
    metrics = run.metrics or {}
    churn = metrics.get("churn") or {}
    evaluation = metrics.get("evaluation") or {}
    clusters = metrics.get("clusters") or {}
    served = churn.get("served")
    stored = churn.get("scores")
    scores: dict[str, Any] = stored if isinstance(stored, dict) else {}
    score_rows = [
        {
            "key": key,
            "label": label,
            "served": served == key,
            "loses": key == "model" and churn.get("beats_baseline") is False,
            **(scores.get(key) or {}),
        }
        for key, label in SCORE_LABELS.items()
        if isinstance(scores.get(key), dict)
    ]
    warnings = []
    if churn.get("beats_baseline") is False:
        warnings.append(
            {"key": "churn", "text": _("The churn classifier loses to days since last purchase alone.")}
        )
    forecast, forecast_reason = _evaluated(evaluation, "forecast", "mae")
    offers, offers_reason = _evaluated(evaluation, "offers", "hit_rate")
    if forecast and forecast.get("beats_baseline") is False:
        warnings.append({"key": "forecast", "text": _("The purchase forecast loses to its baseline.")})
    if offers and offers.get("beats_baseline") is False:
        warnings.append(
            {"key": "offers", "text": _("The next best offers lose to the most popular categories.")}
        )
    forecast_rows = [
        {"key": key, "label": label, "mae": ((forecast or {}).get("mae") or {}).get(key)}
        for key, label in FORECAST_LABELS.items()
    ]
    offer_rows = [
        {"key": key, "label": label, "hit_rate": ((offers or {}).get("hit_rate") or {}).get(key)}
        for key, label in OFFER_LABELS.items()
    ]
    return {
        "window_days": churn_window_days(run),
        "served": served,
        "calibration": churn.get("calibration"),
        "scores": score_rows,
        "reliability": (reliability := _reliability(churn.get("reliability"))),
        "reliability_line": " ".join(f"{row['x']},{row['y']}" for row in reliability),
        "importances": _importances(churn.get("importances")),
        "warnings": warnings,
        "forecast": forecast,
        "forecast_rows": forecast_rows if forecast else [],
        "forecast_reason": forecast_reason,
        "offers": offers,
        "offer_rows": offer_rows if offers else [],
        "offers_reason": offers_reason,
        "clusters": clusters,
        "stability": _stability(metrics.get("stability")),
        "has_evaluation": bool(score_rows or forecast or offers or churn.get("reliability")),
    }
