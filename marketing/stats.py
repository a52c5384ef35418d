"""The statistics of a campaign's effect: pure functions on counts and per-customer arrays (no ORM).

Every comparison is a variant against the holdout (who received nothing), by intention to treat: every
assigned customer counts in their arm, whether the message reached them or not.

- Conversion uplift: the difference of proportions (variant - holdout) with a Wald interval and a Wald
  test on unpooled variances (statsmodels ``confint_proportions_2indep`` / ``test_proportions_2indep``,
  ``method="wald"``): the same standard error for both, so the 95% interval excludes 0 exactly when
  p < 0.05 and the verdict never contradicts itself. The minimum sample rule keeps the normal
  approximation honest.
- Revenue per customer: Welch's t interval of the difference of means (unequal variances; revenue is
  skewed and the arms differ in size).
- Incremental revenue = difference per customer x customers in the variant; ROI = (incremental revenue
  - cost) / cost. Cost is a known constant, so both are increasing linear maps of the revenue difference
  and its interval maps to theirs end to end (no extra approximation).
- Holm's step-down correction across the variants (family-wise error 5%).
- Sample-ratio mismatch: a chi-square goodness of fit of the arm sizes against the configured shares,
  flagged at p < 0.001 (the threshold GrowthBook uses): an assignment or logging fault, not chance.
- CUPED (Deng et al. 2013): y' = y - theta (x - mean x) with x the pre-period spend and
  theta = cov(y, x) / var(x) on both arms pooled; same expected difference, smaller variance.
- Minimum detectable effect at 80% power: statsmodels ``NormalIndPower`` on Cohen's h, turned back into
  percentage points of the baseline rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

ALPHA = 0.05
POWER = 0.8
PROPORTION_METHOD = "wald"
# GrowthBook's threshold: at p < 0.001 a split this far from the plan is a fault, not chance.
SRM_THRESHOLD = 0.001
# Below 100 customers an arm's mean and proportion are too noisy for the normal approximations used here.
MIN_ARM_SIZE = 100
# The normal approximation of a proportion needs about 5 successes and 5 failures in each arm (n p >= 5).
MIN_EVENTS = 5


@dataclass(frozen=True)
class Interval:
    """An estimate with its (1 - alpha) interval and two-sided p-value (None where it has no test)."""

    estimate: float
    low: float
    high: float
    p_value: float | None = None

    @property
    def spans_zero(self) -> bool:
        return self.low <= 0.0 <= self.high


@dataclass(frozen=True)
class Arm:
    """One arm's outcome: size, conversions, and per-customer revenue and pre-period spend (length n)."""

    n: int
    conversions: int
    revenue: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pre_spend: np.ndarray | None = None


@dataclass(frozen=True)
class Cuped:
    theta: float
    plain: Interval
    adjusted: Interval
    variance_reduction: float


@dataclass(frozen=True)
class Srm:
    p_value: float
    mismatch: bool
    observed: dict[str, int]
    expected: dict[str, float]


@dataclass(frozen=True)
class Comparison:
    """A variant against the holdout."""

    variant: str
    too_small: bool
    uplift: Interval
    revenue: Interval
    incremental_revenue: Interval
    roi: Interval | None
    cuped: Cuped | None


@dataclass(frozen=True)
class Verdict:
    """What the report says about one variant, as data (the page words and translates it).

    ``code``: "lifted" / "lowered" (significant after Holm), "no_winner" (interval spans zero, or not
    significant once corrected), "too_small" (below the minimum sample), "sample_ratio_mismatch" (the
    split itself is suspect: no conclusion). Points are percentage points (2.1 = 2.1 points).
    """

    code: str
    variant: str
    uplift_points: float
    low_points: float
    high_points: float
    p_value: float | None
    p_adjusted: float | None
    roi: Interval | None


def conversion_uplift(
    *, conversions: int, n: int, control_conversions: int, control_n: int, alpha: float = ALPHA
) -> Interval:
    """Variant rate - control rate with its Wald interval and Wald test (see the module docstring)."""
    low, high = confint_proportions_2indep(
        conversions, n, control_conversions, control_n, method=PROPORTION_METHOD, compare="diff", alpha=alpha
    )
    test = test_proportions_2indep(
        conversions, n, control_conversions, control_n, method=PROPORTION_METHOD, compare="diff"
    )
    p_value = float(test.pvalue)
    if math.isnan(p_value):  # both rates 0 or 1: no variance, no difference
        p_value = 1.0
    return Interval(conversions / n - control_conversions / control_n, float(low), float(high), p_value)


def welch_difference(*, values: np.ndarray, control: np.ndarray, alpha: float = ALPHA) -> Interval:
    """mean(values) - mean(control) with Welch's t interval and test (unequal variances)."""
    values, control = np.asarray(values, dtype=float), np.asarray(control, dtype=float)
    n1, n2 = len(values), len(control)
    diff = float(values.mean() - control.mean())
    v1, v2 = values.var(ddof=1) / n1, control.var(ddof=1) / n2
    se = math.sqrt(v1 + v2)
    if se == 0.0:  # every customer spent the same in both arms
        return Interval(diff, diff, diff, 1.0 if diff == 0.0 else 0.0)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    t_crit = float(scipy_stats.t.ppf(1 - alpha / 2, df))
    p_value = float(2 * scipy_stats.t.sf(abs(diff) / se, df))
    return Interval(diff, diff - t_crit * se, diff + t_crit * se, p_value)


def incremental_revenue(*, revenue_difference: Interval, customers: int) -> Interval:
    """Revenue the variant added over doing nothing: the per-customer difference x its customers."""
    d = revenue_difference
    return Interval(d.estimate * customers, d.low * customers, d.high * customers, d.p_value)


def roi(*, incremental: Interval, cost: Decimal | float) -> Interval | None:
    """(incremental revenue - cost) / cost, its interval mapped end to end; None when nothing was spent."""
    spent = float(cost)
    if spent <= 0.0:
        return None
    return Interval(
        (incremental.estimate - spent) / spent,
        (incremental.low - spent) / spent,
        (incremental.high - spent) / spent,
    )


def holm(p_values: Sequence[float], *, alpha: float = ALPHA) -> tuple[list[float], list[bool]]:
    """Holm-adjusted p-values and which comparisons stay significant (family-wise error ``alpha``)."""
    if not p_values:
        return [], []
    reject, adjusted, _sidak, _bonferroni = multipletests(list(p_values), alpha=alpha, method="holm")
    return [float(p) for p in adjusted], [bool(r) for r in reject]


def sample_ratio_check(*, observed: Mapping[str, int], shares: Mapping[str, float]) -> Srm:
    """Chi-square test of the arm sizes against the planned shares (normalised); mismatch at p < 0.001."""
    keys = list(shares)
    counts = np.array([observed.get(key, 0) for key in keys], dtype=float)
    weights = np.array([shares[key] for key in keys], dtype=float)
    expected = counts.sum() * weights / weights.sum()
    p_value = float(scipy_stats.chisquare(counts, expected).pvalue)
    return Srm(
        p_value=p_value,
        mismatch=p_value < SRM_THRESHOLD,
        observed={key: int(c) for key, c in zip(keys, counts, strict=True)},
        expected={key: float(e) for key, e in zip(keys, expected, strict=True)},
    )


def cuped(
    *, values: np.ndarray, pre: np.ndarray, control: np.ndarray, control_pre: np.ndarray, alpha: float = ALPHA
) -> Cuped:
    """The revenue difference with and without CUPED on the pre-period spend (theta on both arms pooled)."""
    y = np.concatenate([values, control]).astype(float)
    x = np.concatenate([pre, control_pre]).astype(float)
    var_x = float(x.var(ddof=1))
    theta = float(np.cov(y, x, ddof=1)[0, 1] / var_x) if var_x > 0 else 0.0
    mean_x = float(x.mean())
    adjusted_values = np.asarray(values, dtype=float) - theta * (np.asarray(pre, dtype=float) - mean_x)
    adjusted_control = np.asarray(control, dtype=float) - theta * (
        np.asarray(control_pre, dtype=float) - mean_x
    )
    var_y = float(y.var(ddof=1))
    var_adjusted = float(np.concatenate([adjusted_values, adjusted_control]).var(ddof=1))
    return Cuped(
        theta=theta,
        plain=welch_difference(values=values, control=control, alpha=alpha),
        adjusted=welch_difference(values=adjusted_values, control=adjusted_control, alpha=alpha),
        variance_reduction=1.0 - var_adjusted / var_y if var_y > 0 else 0.0,
    )


def minimum_detectable_effect(
    *, baseline_rate: float, n: int, control_n: int, alpha: float = ALPHA, power: float = POWER
) -> float:
    """The smallest rise of the conversion rate (absolute, 0.02 = 2 points) detectable at ``power``.

    ``NormalIndPower`` solves for Cohen's h = 2 asin(sqrt p2) - 2 asin(sqrt p1) with ``nobs1 = n`` and
    ``ratio = control_n / n``; p2 is turned back from h. 1 - baseline when even a rate of 100% is not
    detectable (arms far too small).
    """
    h = float(
        NormalIndPower().solve_power(
            effect_size=None, nobs1=n, alpha=alpha, power=power, ratio=control_n / n, alternative="two-sided"
        )
    )
    angle = h + 2 * math.asin(math.sqrt(baseline_rate))
    if angle >= math.pi:
        return 1.0 - baseline_rate
    return math.sin(angle / 2) ** 2 - baseline_rate


def too_small(*, n: int, conversions: int, control_n: int, control_conversions: int) -> bool:
    """The minimum sample rule: each arm at least ``MIN_ARM_SIZE`` customers and ``MIN_EVENTS``
    conversions and non-conversions, else the intervals cannot be trusted ("too small to tell")."""
    for size, events in ((n, conversions), (control_n, control_conversions)):
        if size < MIN_ARM_SIZE or events < MIN_EVENTS or size - events < MIN_EVENTS:
            return True
    return False


def compare(
    *, variant: str, arm: Arm, holdout: Arm, cost: Decimal | float, alpha: float = ALPHA
) -> Comparison:
    """Everything the report shows for one variant against the holdout."""
    uplift = conversion_uplift(
        conversions=arm.conversions,
        n=arm.n,
        control_conversions=holdout.conversions,
        control_n=holdout.n,
        alpha=alpha,
    )
    revenue = welch_difference(values=arm.revenue, control=holdout.revenue, alpha=alpha)
    incremental = incremental_revenue(revenue_difference=revenue, customers=arm.n)
    with_cuped = None
    if arm.pre_spend is not None and holdout.pre_spend is not None:
        with_cuped = cuped(
            values=arm.revenue,
            pre=arm.pre_spend,
            control=holdout.revenue,
            control_pre=holdout.pre_spend,
            alpha=alpha,
        )
    return Comparison(
        variant=variant,
        too_small=too_small(
            n=arm.n, conversions=arm.conversions, control_n=holdout.n, control_conversions=holdout.conversions
        ),
        uplift=uplift,
        revenue=revenue,
        incremental_revenue=incremental,
        roi=roi(incremental=incremental, cost=cost),
        cuped=with_cuped,
    )


def verdicts(
    *, comparisons: Sequence[Comparison], srm: Srm | None = None, alpha: float = ALPHA
) -> list[Verdict]:
    """One verdict per variant: Holm across the variants' conversion p-values, then the rules in order
    (sample-ratio mismatch, too small, not significant, lifted or lowered)."""
    adjusted, significant = holm([c.uplift.p_value or 1.0 for c in comparisons], alpha=alpha)
    result = []
    for comparison, p_adjusted, is_significant in zip(comparisons, adjusted, significant, strict=True):
        u = comparison.uplift
        if srm is not None and srm.mismatch:
            code = "sample_ratio_mismatch"
        elif comparison.too_small:
            code = "too_small"
        elif u.spans_zero or not is_significant:
            code = "no_winner"
        else:
            code = "lifted" if u.estimate > 0 else "lowered"
        result.append(
            Verdict(
                code=code,
                variant=comparison.variant,
                uplift_points=u.estimate * 100,
                low_points=u.low * 100,
                high_points=u.high * 100,
                p_value=u.p_value,
                p_adjusted=p_adjusted,
                roi=comparison.roi,
            )
        )
    return result


def best_variant(verdicts_: Sequence[Verdict]) -> str | None:
    """The variant to recommend: the largest significant lift, or None (no hint without significance)."""
    lifted = [v for v in verdicts_ if v.code == "lifted"]
    return max(lifted, key=lambda v: v.uplift_points).variant if lifted else None
