"""Computed names shown in the active language: cluster names and automatic segment names.

The pipeline names clusters in English from a small vocabulary (``NAME_WORDS`` of
``profiles.pipeline.cluster_names``, listed by ``name_vocabulary()``), e.g. "dormant one-off customers"
or "frequent app users and coupon users (2)"; runs store that name. Pages translate it word by word
here; a name outside the vocabulary is shown as stored. Every word of the vocabulary needs an entry
below (profiles/tests/test_clusters_quality.py checks).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from profiles.pipeline.rfm import RFM_SEGMENT_LABELS

ADJECTIVES = {
    "dormant": gettext_lazy("dormant"),
    "recently active": gettext_lazy("recently active"),
    "frequent": gettext_lazy("frequent"),
    "infrequent": gettext_lazy("infrequent"),
    "one-off": gettext_lazy("one-off"),
    "non-buying": gettext_lazy("non-buying"),
    "high-spend": gettext_lazy("high-spend"),
    "low-spend": gettext_lazy("low-spend"),
    "multi-category": gettext_lazy("multi-category"),
    "single-category": gettext_lazy("single-category"),
    "campaign-responsive": gettext_lazy("campaign-responsive"),
    "high-touch": gettext_lazy("high-touch"),
}
NOUNS = {
    "customers": gettext_lazy("customers"),
    "web browsers": gettext_lazy("web browsers"),
    "app users": gettext_lazy("app users"),
    "search users": gettext_lazy("search users"),
    "cart builders": gettext_lazy("cart builders"),
    "coupon users": gettext_lazy("coupon users"),
}
WHOLE_NAMES = {
    "average customers": gettext_lazy("average customers"),
    "all customers": gettext_lazy("all customers"),
}
_NUMBERED = re.compile(r"^(?P<base>.*?)(?P<suffix> \(\d+\))?$")
_LONGEST_FIRST = sorted(ADJECTIVES, key=len, reverse=True)


def cluster_name_parts(name: str) -> tuple[list[str], list[str], str] | None:
    """(adjectives, nouns, " (N)" suffix) of a stored cluster name, as vocabulary keys; a whole name
    ("average customers") is one noun; None when a part is outside the vocabulary."""
    match = _NUMBERED.match(name or "")
    if not match or not match["base"]:
        return None
    base, suffix = match["base"], match["suffix"] or ""
    if base in WHOLE_NAMES:
        return [], [base], suffix
    adjectives: list[str] = []
    rest = base
    while True:
        word = next((word for word in _LONGEST_FIRST if rest.startswith(word + " ")), None)
        if word is None:
            break
        adjectives.append(word)
        rest = rest[len(word) + 1 :]
    parts = rest.split(" and ")
    if not all(part in NOUNS for part in parts):
        return None
    return adjectives, parts, suffix


def cluster_label(name: str) -> str:
    """The stored English cluster name in the active language (unchanged when not in the vocabulary)."""
    parsed = cluster_name_parts(name)
    if parsed is None:
        return name
    adjective_keys, noun_keys, suffix = parsed
    if noun_keys[0] in WHOLE_NAMES:
        return str(WHOLE_NAMES[noun_keys[0]]) + suffix
    adjectives = [str(ADJECTIVES[word]) for word in adjective_keys]
    nouns = str(NOUNS[noun_keys[0]])
    for part in noun_keys[1:]:
        nouns = _("%(first)s and %(second)s") % {"first": nouns, "second": NOUNS[part]}
    if not adjectives:
        return nouns + suffix
    joined = adjectives[0]
    for adjective in adjectives[1:]:
        joined = _("%(first)s %(second)s") % {"first": joined, "second": adjective}
    return _("%(adjectives)s %(nouns)s") % {"adjectives": joined, "nouns": nouns} + suffix


def segment_label(segment: Any) -> str:
    """An automatic segment's name in the active language; manual segments keep the name they were given."""
    key = getattr(segment, "key", "") or ""
    if key.startswith("rfm:"):
        return str(RFM_SEGMENT_LABELS.get(key[4:], segment.name))
    if key.startswith("cluster:"):
        number, _sep, rest = segment.name.partition(" ")
        if not number.startswith("#"):
            return cluster_label(segment.name)
        return f"{number} {cluster_label(rest)}".strip()
    return str(segment.name)


def percent(value: float | None, decimals: int = 0) -> str:
    """A 0..1 share as the pages show it: "75%" (in the reader's number format), "–" when unknown."""
    if value is None:
        return "–"
    return number_format(round(value * 100, decimals), decimal_pos=decimals) + "%"


def clv_band_label(band: Any) -> str:
    """A CLV band (``CustomerProfile.clv_bucket``) as the range it holds, grouped per the reader's
    language: "500–1,000", "10,000+"; as stored when it is not a band number."""
    from profiles.services.rows import CLV_EDGES

    try:
        index = int(band)
    except (TypeError, ValueError):
        return str(band)
    if not 0 <= index < len(CLV_EDGES):
        return str(band)
    edges = [number_format(edge, use_l10n=True, force_grouping=True) for edge in CLV_EDGES]
    return f"{edges[index]}–{edges[index + 1]}" if index + 1 < len(edges) else f"{edges[index]}+"


def profile_change_text(change: Any) -> str:
    """A ProfileChange as the timeline says it: "Segment: Loyal → At risk", "Churn risk rose 21% → 64%",
    "Value tier rose: 100–200 → 500–1,000" (labels, percents and amounts in the reader's language)."""
    from profiles.models import ProfileChange

    if change.kind == ProfileChange.Kind.SEGMENT_MOVED:
        return _("Segment: %(before)s → %(after)s") % {
            "before": RFM_SEGMENT_LABELS.get(change.before, change.before),
            "after": RFM_SEGMENT_LABELS.get(change.after, change.after),
        }
    if change.kind == ProfileChange.Kind.CHURN_RISK_UP:
        return _("Churn risk rose %(before)s → %(after)s") % {
            "before": percent(change.before_value),
            "after": percent(change.after_value),
        }
    if change.kind == ProfileChange.Kind.VALUE_TIER_CHANGED:
        values = {"before": clv_band_label(change.before), "after": clv_band_label(change.after)}
        try:
            rose = int(change.after) > int(change.before)
        except (TypeError, ValueError):
            return _("Value tier: %(before)s → %(after)s") % values
        if rose:
            return _("Value tier rose: %(before)s → %(after)s") % values
        return _("Value tier fell: %(before)s → %(after)s") % values
    return str(change.get_kind_display())
