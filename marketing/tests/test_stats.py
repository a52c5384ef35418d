"""The statistics against answers worked by hand (formulas written out here, scipy as the reference)."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from marketing import stats

Z = scipy_stats.norm.ppf(0.975)  # 1.959964


def test_conversion_uplift_matches_the_hand_worked_wald_answer():
    # 120/1000 vs 90/1000: diff 0.03, se = sqrt(.12*.88/1000 + .09*.91/1000) = sqrt(0.0001875) = 0.013693
    result = stats.conversion_uplift(conversions=120, n=1000, control_conversions=90, control_n=1000)
    se = math.sqrt(0.12 * 0.88 / 1000 + 0.09 * 0.91 / 1000)
    assert se == pytest.approx(0.0136930, abs=1e-7)
    assert result.estimate == pytest.approx(0.03)
    assert result.low == pytest.approx(0.03 - Z * se) == pytest.approx(0.00316, abs=1e-5)
    assert result.high == pytest.approx(0.03 + Z * se) == pytest.approx(0.05684, abs=1e-5)
    # z = 0.03 / se = 2.1909; two-sided p = 0.02846
    assert result.p_value == pytest.approx(2 * scipy_stats.norm.sf(0.03 / se))
    assert result.p_value == pytest.approx(0.02846, abs=1e-5)
    assert not result.spans_zero


def test_welch_difference_matches_the_formula_and_scipy():
    rng = np.random.default_rng(3)
    treated = rng.gamma(2.0, 60.0, 1000) * (rng.random(1000) < 0.12)
    control = rng.gamma(2.0, 60.0, 800) * (rng.random(800) < 0.09)
    result = stats.welch_difference(values=treated, control=control)
    v1, v2 = treated.var(ddof=1) / 1000, control.var(ddof=1) / 800
    df = (v1 + v2) ** 2 / (v1**2 / 999 + v2**2 / 799)
    half = scipy_stats.t.ppf(0.975, df) * math.sqrt(v1 + v2)
    diff = treated.mean() - control.mean()
    assert result.estimate == pytest.approx(diff)
    assert (result.low, result.high) == pytest.approx((diff - half, diff + half))
    reference = scipy_stats.ttest_ind(treated, control, equal_var=False)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert (result.low, result.high) == pytest.approx(tuple(reference.confidence_interval(0.95)))


def test_welch_difference_of_identical_constant_arms_is_zero_with_p_one():
    result = stats.welch_difference(values=np.zeros(200), control=np.zeros(300))
    assert (result.estimate, result.low, result.high, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_incremental_revenue_and_roi_map_the_interval_end_to_end():
    # 2.00 per customer (0.50 to 3.50) over 1,000 customers = 2,000 (500 to 3,500); cost 1,000:
    # ROI = (2000 - 1000) / 1000 = 1.0, from (500 - 1000)/1000 = -0.5 to (3500 - 1000)/1000 = 2.5.
    difference = stats.Interval(2.0, 0.5, 3.5, 0.01)
    incremental = stats.incremental_revenue(revenue_difference=difference, customers=1000)
    assert (incremental.estimate, incremental.low, incremental.high) == (2000.0, 500.0, 3500.0)
    result = stats.roi(incremental=incremental, cost=1000)
    assert (result.estimate, result.low, result.high) == pytest.approx((1.0, -0.5, 2.5))
    assert stats.roi(incremental=incremental, cost=0) is None


def test_holm_adjusts_step_down():
    # sorted p: 0.01, 0.03, 0.04 x (3, 2, 1) = 0.03, 0.06, 0.04 -> running max 0.03, 0.06, 0.06
    adjusted, significant = stats.holm([0.01, 0.04, 0.03])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06])
    assert significant == [True, False, False]


def test_sample_ratio_check_flags_a_split_far_from_the_plan():
    # Plan 45/45/10 of 10,000; observed 4,500 / 4,300 / 1,200:
    # chi2 = 0 + 200^2/4500 + 200^2/1000 = 8.889 + 40 = 48.889, 2 df -> p = exp(-48.889/2) = 2.4e-11
    result = stats.sample_ratio_check(
        observed={"A": 4500, "B": 4300, "holdout": 1200}, shares={"A": 0.45, "B": 0.45, "holdout": 0.1}
    )
    chi2 = 200**2 / 4500 + 200**2 / 1000
    assert result.p_value == pytest.approx(math.exp(-chi2 / 2))
    assert result.mismatch
    fine = stats.sample_ratio_check(
        observed={"A": 4520, "B": 4480, "holdout": 1000}, shares={"A": 0.45, "B": 0.45, "holdout": 0.1}
    )
    # chi2 = 20^2/4500 * 2 = 0.178 -> p = 0.915
    assert fine.p_value == pytest.approx(math.exp(-(2 * 400 / 4500) / 2))
    assert not fine.mismatch


def test_cuped_uses_the_pooled_theta_and_narrows_the_interval():
    rng = np.random.default_rng(11)
    pre_t, pre_c = rng.gamma(2.0, 50.0, 2000), rng.gamma(2.0, 50.0, 2000)
    y_t = 0.8 * pre_t + rng.normal(5.0, 20.0, 2000)
    y_c = 0.8 * pre_c + rng.normal(0.0, 20.0, 2000)
    result = stats.cuped(values=y_t, pre=pre_t, control=y_c, control_pre=pre_c)
    y, x = np.concatenate([y_t, y_c]), np.concatenate([pre_t, pre_c])
    theta = np.sum((y - y.mean()) * (x - x.mean())) / np.sum((x - x.mean()) ** 2)
    assert result.theta == pytest.approx(theta)
    adjusted_t, adjusted_c = y_t - theta * (pre_t - x.mean()), y_c - theta * (pre_c - x.mean())
    reference = scipy_stats.ttest_ind(adjusted_t, adjusted_c, equal_var=False).confidence_interval(0.95)
    assert (result.adjusted.low, result.adjusted.high) == pytest.approx(tuple(reference))
    plain = scipy_stats.ttest_ind(y_t, y_c, equal_var=False).confidence_interval(0.95)
    assert (result.plain.low, result.plain.high) == pytest.approx(tuple(plain))
    assert result.adjusted.high - result.adjusted.low < (result.plain.high - result.plain.low) / 2
    assert result.variance_reduction > 0.5


def test_minimum_detectable_effect_at_80_percent_power_inverts_cohens_h():
    # Equal arms of 1,000: h = (z_0.975 + z_0.8) * sqrt(1/1000 + 1/1000) = 2.8016 * 0.044721 = 0.12529;
    # p2 = sin(h/2 + asin(sqrt(0.09)))^2 = 0.12898, so the MDE is 3.9 points over a 9% baseline.
    h = (Z + scipy_stats.norm.ppf(0.8)) * math.sqrt(2 / 1000)
    p2 = math.sin(h / 2 + math.asin(math.sqrt(0.09))) ** 2
    result = stats.minimum_detectable_effect(baseline_rate=0.09, n=1000, control_n=1000)
    assert result == pytest.approx(p2 - 0.09, rel=1e-4)
    assert result == pytest.approx(0.0390, abs=1e-4)
    # A smaller holdout (200) makes the smallest detectable lift larger.
    assert stats.minimum_detectable_effect(baseline_rate=0.09, n=1000, control_n=200) > result


def test_minimum_sample_rule():
    assert not stats.too_small(n=1000, conversions=120, control_n=1000, control_conversions=90)
    assert stats.too_small(n=1000, conversions=120, control_n=99, control_conversions=9)  # holdout < 100
    assert stats.too_small(n=1000, conversions=120, control_n=500, control_conversions=4)  # < 5 conversions


def _arm(n, conversions, revenue_each):
    revenue = np.zeros(n)
    revenue[:conversions] = revenue_each
    return stats.Arm(n=n, conversions=conversions, revenue=revenue)


def test_verdicts_lift_no_winner_too_small_and_sample_ratio_mismatch():
    holdout = _arm(1000, 90, 100.0)
    b = stats.compare(variant="B", arm=_arm(1000, 120, 100.0), holdout=holdout, cost=1000)
    c = stats.compare(variant="C", arm=_arm(1000, 95, 100.0), holdout=holdout, cost=1000)
    tiny = stats.compare(variant="D", arm=_arm(50, 6, 100.0), holdout=holdout, cost=1000)
    # B: revenue per customer 12 vs 9 -> +3.00 x 1,000 = 3,000 incremental; ROI (3000-1000)/1000 = 2.0.
    assert b.incremental_revenue.estimate == pytest.approx(3000.0)
    assert b.roi.estimate == pytest.approx(2.0)
    found = stats.verdicts(comparisons=[b, c])
    # Holm: p_B = 0.02846 x 2 = 0.0569 > 0.05 with C beside it: no winner once corrected.
    assert [v.code for v in found] == ["no_winner", "no_winner"]
    alone = stats.verdicts(comparisons=[b])[0]
    assert alone.code == "lifted"
    assert (alone.uplift_points, alone.low_points, alone.high_points) == pytest.approx(
        (3.0, 0.316, 5.684), abs=1e-3
    )
    assert stats.best_variant([alone]) == "B"
    assert stats.verdicts(comparisons=[tiny])[0].code == "too_small"
    srm = stats.sample_ratio_check(observed={"B": 1000, "holdout": 1000}, shares={"B": 0.9, "holdout": 0.1})
    assert stats.verdicts(comparisons=[b], srm=srm)[0].code == "sample_ratio_mismatch"
    assert stats.best_variant(found) is None
