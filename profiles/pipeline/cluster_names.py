"""Cluster names relative to the population: which words a cluster earns, and unique names per run.

Each vocabulary feature's cluster *median* (not mean: a few whales would drag a mean into the top quarter)
is placed in the distribution of the customers NAME_WORDS compares it with; only a median in the top or
bottom quarter earns a word, and the two features furthest into their tail name the cluster, e.g.
"dormant low-spend customers", "recently active high-spend customers". Stored names are English and
translated word by word by profiles.labels.cluster_label, which must know every word here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

# A cluster median earns a feature's word only in the outer quarter of the population: beyond 75% of the
# customers it is compared with (top quartile) or below 75% of them (bottom quartile). Ranks count
# customers strictly below / strictly above, so a value half the population shares is in neither tail.
TAIL_SHARE = 0.75


@dataclass(frozen=True)
class NameWord:
    """The words for one feature: `high` when the cluster median is in the top tail, `low` in the bottom
    one, `exact` instead of either when the median is exactly that value; `among` says which customers the
    median is ranked against; `needs_purchase` drops the word for a cluster whose typical member never
    bought; `noun` words end a name ("app users"), adjectives go before it."""

    feature: str
    high: str | None
    low: str | None
    reason: str
    exact: tuple[tuple[float, str], ...] = ()
    among: Literal["everyone", "buyers"] = "everyone"
    needs_purchase: bool = False
    noun: bool = False


_BUYERS = (
    "purchase figures are ranked among customers who bought: where most records are leads who never "
    "ordered, one order would otherwise rank as 'frequent' and any spend as 'high-spend'"
)
# In this order words appear in a name ("dormant one-off customers", not "one-off dormant customers").
NAME_WORDS: tuple[NameWord, ...] = (
    NameWord(
        "recency_days",
        "dormant",
        "recently active",
        f"days since the last purchase; {_BUYERS}; a never-buyer's recency is only their tenure",
        among="buyers",
        needs_purchase=True,
    ),
    NameWord(
        "frequency",
        "frequent",
        "infrequent",
        f"orders; 'one-off' when the typical member ordered exactly once, 'non-buying' never; {_BUYERS}",
        exact=((0.0, "non-buying"), (1.0, "one-off")),
        among="buyers",
    ),
    NameWord(
        "monetary_total",
        "high-spend",
        "low-spend",
        f"total spend; {_BUYERS}",
        exact=((0.0, "non-buying"),),
        among="buyers",
    ),
    NameWord(
        "distinct_categories",
        "multi-category",
        None,
        f"categories bought; 'few categories' has no word unless it is exactly one; {_BUYERS}",
        exact=((0.0, "non-buying"), (1.0, "single-category")),
        among="buyers",
    ),
    NameWord(
        "campaign_response_rate",
        "campaign-responsive",
        None,
        "share of campaigns answered; most customers were never targeted or never answered (0), so only "
        "the top tail says something",
    ),
    NameWord(
        "interaction_count",
        "high-touch",
        None,
        "calls, meetings and messages with staff; most customers have none, so only the top tail counts",
    ),
    *(
        NameWord(
            f"events_{kind}",
            noun,
            None,
            f"{kind.replace('_', ' ')} events; most customers have few or none, so only the top tail counts",
            noun=True,
        )
        for kind, noun in (
            ("page_view", "web browsers"),
            ("app_open", "app users"),
            ("search", "search users"),
            ("add_to_cart", "cart builders"),
            ("coupon_use", "coupon users"),
        )
    ),
)
_ORDER = {word.feature: position for position, word in enumerate(NAME_WORDS)}
_NOUNS = {w for word in NAME_WORDS if word.noun for w in (word.high, word.low) if w}
WHOLE_NAMES = ("average customers", "all customers")


def name_vocabulary() -> tuple[set[str], set[str]]:
    """(adjectives, nouns) a stored cluster name can be made of (profiles.labels translates each)."""
    words = {w for word in NAME_WORDS for w in (word.high, word.low, *(x for _v, x in word.exact)) if w}
    return words - _NOUNS, _NOUNS | {"customers"}


# --- Words ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameCandidate:
    """A word a cluster earned: its feature, how far into the tail the cluster median is (share of the
    reference beyond it, 0.75..1) and, to break ties, the centroid's distance from the mean in SDs."""

    feature: str
    word: str
    depth: float
    spread: float = 0.0


def _word_for(rule: NameWord, median: float, below: float, above: float) -> NameCandidate | None:
    """The rule's word for a cluster median with `below` / `above` of the reference strictly under / over
    it, or None when the median is in neither tail or the tail has no word."""
    depth = max(below, above)
    if depth < TAIL_SHARE:
        return None
    word = next((w for value, w in rule.exact if median == value), None)
    if word is None:
        word = rule.high if below >= TAIL_SHARE else rule.low
    return NameCandidate(rule.feature, word, depth) if word else None


def _compose(candidates: Sequence[NameCandidate]) -> str:
    """Words in NAME_WORDS order: adjectives, then nouns joined by "and" (or "customers")."""
    if not candidates:
        return "average customers"
    ordered = sorted(candidates, key=lambda c: _ORDER[c.feature])
    adjectives = [c.word for c in ordered if c.word not in _NOUNS]
    nouns = [c.word for c in ordered if c.word in _NOUNS]
    return " ".join([*adjectives, " and ".join(nouns) or "customers"])


def ranked_words(
    medians: dict[str, float],
    reference: dict[str, np.ndarray],
    *,
    bought: bool,
    z_scores: dict[str, float] | None = None,
) -> list[NameCandidate]:
    """Every word a cluster earns, most distinctive first, each word once: deepest into its tail first
    (to the percent); a cluster at the far end of several features (depth near 1 in each) then ranks them
    by how many standard deviations its centroid sits from the mean (`z_scores`), then NAME_WORDS order.
    `reference` holds each feature's sorted reference values; `bought` whether the cluster's typical
    member ever bought."""
    found: list[NameCandidate] = []
    for rule in NAME_WORDS:
        values = reference.get(rule.feature)
        if values is None or not len(values) or rule.feature not in medians:
            continue
        if rule.needs_purchase and not bought:
            continue
        median = float(medians[rule.feature])
        below = np.searchsorted(values, median, side="left") / len(values)
        above = 1.0 - np.searchsorted(values, median, side="right") / len(values)
        candidate = _word_for(rule, median, float(below), float(above))
        if candidate is not None:
            spread = abs(float((z_scores or {}).get(rule.feature, 0.0)))
            found.append(NameCandidate(candidate.feature, candidate.word, candidate.depth, spread))
    found.sort(key=lambda c: (-round(c.depth, 2), -c.spread, _ORDER[c.feature]))
    seen: set[str] = set()
    unique = []
    for candidate in found:
        if candidate.word not in seen:
            seen.add(candidate.word)
            unique.append(candidate)
    return unique


def unique_names(
    ranked: Sequence[Sequence[NameCandidate]], *, words: int | Sequence[int] = 2
) -> list[tuple[str, int]]:
    """(name, number of words used) per cluster: the `words` (each, or per cluster) first words of each;
    clusters that would share a name take their next word, round by round, and only when one has none
    left a number " (2)"."""
    wanted = [words] * len(ranked) if isinstance(words, int) else list(words)
    depth = [min(n, len(r)) for n, r in zip(wanted, ranked, strict=True)]
    while True:
        names = [_compose(r[:d]) for r, d in zip(ranked, depth, strict=True)]
        clashing = [i for i, name in enumerate(names) if names.count(name) > 1]
        grown = False
        for i in clashing:
            if depth[i] < len(ranked[i]):
                depth[i] += 1
                grown = True
        if not grown:
            break
    numbered: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    for name, used in zip(names, depth, strict=True):
        seen[name] = seen.get(name, 0) + 1
        numbered.append((name if seen[name] == 1 else f"{name} ({seen[name]})", used))
    return numbered


def references(raw: pd.DataFrame) -> dict[str, np.ndarray]:
    buyers = raw["frequency"].to_numpy() > 0 if "frequency" in raw else np.ones(len(raw), dtype=bool)
    reference: dict[str, np.ndarray] = {}
    for rule in NAME_WORDS:
        if rule.feature in raw:
            values = raw[rule.feature].to_numpy(dtype=np.float64)
            reference[rule.feature] = np.sort(values[buyers] if rule.among == "buyers" else values)
    return reference
