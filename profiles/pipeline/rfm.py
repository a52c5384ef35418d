"""RFM scores (1-5 quintiles) and named RFM segments.

Scores come from each buyer's mid-rank percentile p = (values below + half the values equal) / n in
the reference population, score = ceil(5 p). Ties therefore always share a score, one customer (or a
population that is all alike) lands in the middle (3), and n < 5 still spreads over the scale.
Recency is scored so that a more recent purchase scores higher. Customers who never bought get no
scores and no segment: RFM says nothing about them.

The reference keeps a compact summary of the population (at most ~2,000 knots per measure), so a
single customer refreshed between runs is scored against the last run's population.

Segment rule table, R score (rows) by F score (columns), a standard R/F grid:

    R \\ F |  1            2            3            4            5
    ------+--------------------------------------------------------------------
      5   |  new          potential    potential    champions    champions
      4   |  new          potential    potential    loyal        loyal
      3   |  hibernating  hibernating  potential    loyal        loyal
      2   |  hibernating  hibernating  at_risk      at_risk      cannot_lose
      1   |  lost         lost         at_risk      at_risk      cannot_lose

(potential = potential_loyalists). M is reported but not used by the grid: in this grid spend only
separates customers the R/F cell already ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy
from numpy.typing import NDArray

# The named RFM segments in display order: the key stored on profiles (and in the automatic segments'
# "rfm:<key>") with its display name, translated when shown. The one list of them: the keys, the pages'
# labels and the automatic segments' stored English names all come from this table.
RFM_SEGMENT_LABELS: dict[str, Promise] = {
    "champions": pgettext_lazy("RFM segment", "Champions"),
    "loyal": pgettext_lazy("RFM segment", "Loyal"),
    "potential_loyalists": pgettext_lazy("RFM segment", "Potential loyalists"),
    "new": pgettext_lazy("RFM segment", "New"),
    "at_risk": pgettext_lazy("RFM segment", "At risk"),
    "cannot_lose": pgettext_lazy("RFM segment", "Cannot lose"),
    "hibernating": pgettext_lazy("RFM segment", "Hibernating"),
    "lost": pgettext_lazy("RFM segment", "Lost"),
}
RFM_SEGMENTS = tuple(RFM_SEGMENT_LABELS)

_GRID = {
    5: ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("new", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    3: ("hibernating", "hibernating", "potential_loyalists", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "lost", "at_risk", "at_risk", "cannot_lose"),
}
_MAX_KNOTS = 2001


@dataclass(frozen=True)
class Knots:
    """Distinct reference values with the share of the population below / at-or-below each one."""

    values: NDArray[np.float64]
    below: NDArray[np.float64]
    at_or_below: NDArray[np.float64]

    def percentile(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        if len(self.values) == 0:
            return np.full(len(x), 0.5)
        right = np.searchsorted(self.values, x, side="right")
        left = np.searchsorted(self.values, x, side="left")
        exact = (left < right) & (left < len(self.values))
        lo = np.clip(right - 1, 0, len(self.values) - 1)
        hi = np.clip(left, 0, len(self.values) - 1)
        # Between two knots: interpolate from the CDF just after the lower to just before the upper.
        span = self.values[hi] - self.values[lo]
        frac = np.where(span > 0, (x - self.values[lo]) / np.where(span > 0, span, 1.0), 0.0)
        between = self.at_or_below[lo] + frac * (self.below[hi] - self.at_or_below[lo])
        between = np.where(right == 0, 0.0, np.where(left == len(self.values), 1.0, between))
        mid = (self.below[np.clip(left, 0, len(self.values) - 1)] + self.at_or_below[lo]) / 2.0
        return np.where(exact, mid, between)


def _knots(values: NDArray[np.float64]) -> Knots:
    data = np.sort(values[np.isfinite(values)])
    n = len(data)
    if n == 0:
        return Knots(np.array([]), np.array([]), np.array([]))
    candidates = np.unique(data)
    if len(candidates) > _MAX_KNOTS:
        candidates = np.unique(np.quantile(data, np.linspace(0.0, 1.0, _MAX_KNOTS), method="nearest"))
    below = np.searchsorted(data, candidates, side="left") / n
    at_or_below = np.searchsorted(data, candidates, side="right") / n
    return Knots(candidates, below, at_or_below)


@dataclass(frozen=True)
class RFMReference:
    """Population summary that RFM scores are relative to."""

    recency: Knots
    frequency: Knots
    monetary: Knots
    n_customers: int


def _buyers(features: pd.DataFrame) -> pd.DataFrame:
    return features[features["frequency"] > 0]


def fit_rfm_reference(features: pd.DataFrame) -> RFMReference:
    """Summarise the buyers in `features` (columns recency_days, frequency, monetary_total)."""
    buyers = _buyers(features)
    return RFMReference(
        # Negated so that, like the other two, a larger value is better.
        recency=_knots(-buyers["recency_days"].to_numpy(dtype=np.float64)),
        frequency=_knots(buyers["frequency"].to_numpy(dtype=np.float64)),
        monetary=_knots(buyers["monetary_total"].to_numpy(dtype=np.float64)),
        n_customers=len(buyers),
    )


def _score(knots: Knots, values: NDArray[np.float64]) -> NDArray[np.int64]:
    percentile = knots.percentile(values)
    # The epsilon keeps a percentile of exactly 0.4 from becoming 2.0000000000000004 and scoring 3.
    return np.clip(np.ceil(percentile * 5.0 - 1e-9), 1, 5).astype(np.int64)


def rfm_segment(r_score: pd.Series, f_score: pd.Series) -> pd.Series:
    """Segment name from the R/F grid in the module docstring; missing where either score is missing."""
    table = np.full((6, 6), None, dtype=object)
    for r, row in _GRID.items():
        table[r, 1:] = row
    r = r_score.fillna(0).to_numpy(dtype=np.int64)
    f = f_score.fillna(0).to_numpy(dtype=np.int64)
    return pd.Series(table[r, f], index=r_score.index, dtype="str")


def rfm_scores(features: pd.DataFrame, *, reference: RFMReference | None = None) -> pd.DataFrame:
    """r_score, f_score, m_score (1-5, nullable) and rfm_segment for every row of `features`.

    Without `reference` the scores are relative to the buyers in `features` themselves.
    """
    reference = reference or fit_rfm_reference(features)
    buyers = _buyers(features)
    result = pd.DataFrame(index=features.index)
    for column, knots, values in (
        ("r_score", reference.recency, -buyers["recency_days"]),
        ("f_score", reference.frequency, buyers["frequency"]),
        ("m_score", reference.monetary, buyers["monetary_total"]),
    ):
        scores = pd.Series(_score(knots, values.to_numpy(dtype=np.float64)), index=buyers.index)
        result[column] = scores.reindex(features.index).astype("Int64")
    result["rfm_segment"] = rfm_segment(result["r_score"], result["f_score"])
    return result
