"""Computed names shown in the active language: cluster names and automatic segment names.

The pipeline names clusters in English from a small vocabulary (``profiles.pipeline.clusters._WORDS``),
e.g. "dormant one-off customers" or "frequent app users and coupon users (2)"; runs store that name.
Pages translate it word by word here; a name outside the vocabulary is shown as stored.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from profiles.pipeline.rfm import RFM_SEGMENT_LABELS

ADJECTIVES = {
    "dormant": gettext_lazy("dormant"),
    "recently active": gettext_lazy("recently active"),
    "frequent": gettext_lazy("frequent"),
    "one-off": gettext_lazy("one-off"),
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
_NUMBERED = re.compile(r"^(?P<base>.*?)(?P<suffix> \(\d+\))?$")
_LONGEST_FIRST = sorted(ADJECTIVES, key=len, reverse=True)


def cluster_label(name: str) -> str:
    """The stored English cluster name in the active language (unchanged when not in the vocabulary)."""
    match = _NUMBERED.match(name or "")
    if not match or not match["base"]:
        return name
    base, suffix = match["base"], match["suffix"] or ""
    if base == "average customers":
        return str(_("average customers")) + suffix
    adjectives: list[str] = []
    rest = base
    while True:
        word = next((word for word in _LONGEST_FIRST if rest.startswith(word + " ")), None)
        if word is None:
            break
        adjectives.append(str(ADJECTIVES[word]))
        rest = rest[len(word) + 1 :]
    parts = rest.split(" and ")
    if not all(part in NOUNS for part in parts):
        return name
    nouns = str(NOUNS[parts[0]])
    for part in parts[1:]:
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
