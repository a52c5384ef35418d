"""BG/NBD and Gamma-Gamma against the published CDNOW results, plus the formulas' edge cases."""

from __future__ import annotations

import pickle
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from profiles.pipeline.clv import (
    BGNBDParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    bgnbd_standard_errors,
    clv,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_standard_errors,
    probability_alive,
    rfm_summary,
)

DATA = Path(__file__).parent / "data"
PUBLISHED_BGNBD = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", dtype={"ID": str}).set_index(
        "ID"
    )


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"customer_id": int, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype(str),
            "order_id": raw.index.astype(str),
            "ordered_at": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"],
        }
    )


@pytest.fixture(scope="module")
def bg_fit(cdnow: pd.DataFrame) -> BGNBDParams:
    return fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


@pytest.fixture(scope="module")
def gg_fit(cdnow: pd.DataFrame) -> GammaGammaParams:
    return fit_gamma_gamma(cdnow["x"], cdnow["zbar"])


def test_fit_bgnbd_reproduces_fader_hardie_lee_cdnow_parameters(bg_fit: BGNBDParams) -> None:
    fitted = np.array([bg_fit.r, bg_fit.alpha, bg_fit.a, bg_fit.b])
    np.testing.assert_allclose(fitted, [0.243, 4.414, 0.793, 2.426], rtol=0.01)
    assert bg_fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert bg_fit.n_customers == 2357
    assert bg_fit.converged


def test_fit_gamma_gamma_reproduces_published_cdnow_parameters_on_repeat_buyers(
    gg_fit: GammaGammaParams,
) -> None:
    np.testing.assert_allclose([gg_fit.p, gg_fit.q, gg_fit.v], [6.25, 3.74, 15.44], rtol=0.02)
    assert gg_fit.n_customers == 946


def test_expected_purchases_matches_hardie_spreadsheet_for_the_papers_example_customer() -> None:
    # FHL 2005: x = 2, t_x = 30.43, T = 38.86 -> 1.226 purchases expected in the next 39 weeks.
    assert expected_purchases(PUBLISHED_BGNBD, 39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=1e-3)


def _hyp2f1_series(a: float, b: float, c: float, z: float) -> Decimal:
    a_, b_, c_, z_ = Decimal(a), Decimal(b), Decimal(c), Decimal(z)
    term = total = Decimal(1)
    for k in range(100_000):
        term = term * (a_ + k) * (b_ + k) / ((c_ + k) * (k + 1)) * z_
        total += term
        if k > 10 and abs(term) < total * Decimal("1e-40"):
            return total
    raise AssertionError("series did not converge")


def _expected_purchases_by_series(p: BGNBDParams, t: float, x: float, t_x: float, big_t: float) -> float:
    """FHL eq. 10 exactly as printed, evaluated with 60-digit arithmetic: an independent oracle."""
    with localcontext(prec=60):
        r, alpha, a, b = (Decimal(v) for v in (p.r, p.alpha, p.a, p.b))
        t_, x_, tx_, bt_ = (Decimal(v) for v in (t, x, t_x, big_t))
        series = _hyp2f1_series(p.r + x, p.b + x, p.a + p.b + x - 1, t / (p.alpha + big_t + t))
        numerator = (
            (a + b + x_ - 1) / (a - 1) * (1 - ((alpha + bt_) / (alpha + bt_ + t_)) ** (r + x_) * series)
        )
        denominator = (
            1 + a / (b + x_ - 1) * ((alpha + bt_) / (alpha + tx_)) ** (r + x_) if x > 0 else Decimal(1)
        )
        return float(numerator / denominator)


@pytest.mark.parametrize(
    ("x", "t_x", "big_t", "t"),
    [(0, 0, 38.86, 52), (5, 5, 38.86, 10), (300, 38, 38.86, 52), (3000, 38.8, 38.86, 52)],
)
def test_expected_purchases_matches_a_high_precision_evaluation_even_for_heavy_buyers(
    x: float, t_x: float, big_t: float, t: float
) -> None:
    # At x = 3000 the printed form in float64 is 0 x inf = NaN; the implementation's Euler-transformed
    # 2F1 must agree with the printed series summed in 60-digit arithmetic.
    expected = _expected_purchases_by_series(PUBLISHED_BGNBD, t, x, t_x, big_t)
    assert expected_purchases(PUBLISHED_BGNBD, t, [x], [t_x], [big_t])[0] == pytest.approx(expected, rel=1e-9)


def test_expected_purchases_handles_a_equal_to_one() -> None:
    near = expected_purchases(BGNBDParams(0.5, 4.0, 1.0 + 1e-4, 2.5), 10, [3], [20], [30])
    exact = expected_purchases(BGNBDParams(0.5, 4.0, 1.0, 2.5), 10, [3], [20], [30])
    assert exact[0] == pytest.approx(near[0], rel=1e-3)


def test_probability_alive_is_one_without_repeat_purchases_and_falls_with_silence() -> None:
    alive = probability_alive(PUBLISHED_BGNBD, [0, 5, 5], [0, 38, 5], [38.86, 38.86, 38.86])
    assert alive[0] == 1.0
    assert alive[1] > 0.8
    assert alive[2] < 0.2


def test_expected_average_value_matches_hardie_gamma_gamma_spreadsheet(
    cdnow: pd.DataFrame, gg_fit: GammaGammaParams
) -> None:
    head = cdnow.head(10)
    # From Hardie's note 025 spreadsheet (also lifetimes' test of the same name).
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    np.testing.assert_allclose(expected_average_value(gg_fit, head["x"], head["zbar"]), expected, atol=0.1)


def test_rfm_summary_rebuilds_the_published_cdnow_calibration_summary(
    cdnow: pd.DataFrame, cdnow_orders: pd.DataFrame
) -> None:
    # The as-of cutoff is exclusive: the start of 1997-10-01 takes in all of the calibration's last day.
    summary = rfm_summary(cdnow_orders, as_of="1997-10-01", time_unit_days=7).loc[cdnow.index]
    assert (summary["frequency"].to_numpy() == cdnow["x"].to_numpy()).all()
    # The published file rounds to two decimals.
    np.testing.assert_allclose(summary["recency"], cdnow["t_x"], atol=0.006)
    np.testing.assert_allclose(summary["T"], cdnow["T"], atol=0.006)
    np.testing.assert_allclose(summary["monetary_value"], cdnow["zbar"], atol=0.006)


def test_rfm_summary_counts_purchase_days_not_orders() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "order_id": ["1", "2", "3", "4"],
            "ordered_at": ["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-15", "2024-01-29"],
            "amount": [10.0, 5.0, 30.0, 8.0],
        }
    )
    summary = rfm_summary(orders, as_of="2024-01-29 12:00", time_unit_days=7)
    assert summary.loc["a"].to_dict() == {"frequency": 1.0, "recency": 2.0, "T": 4.0, "monetary_value": 30.0}
    assert summary.loc["b"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 0.0, "monetary_value": 0.0}


def test_rfm_summary_of_no_orders_is_an_empty_frame() -> None:
    summary = rfm_summary(
        pd.DataFrame(columns=["customer_id", "order_id", "ordered_at", "amount"]), as_of="2024-01-01"
    )
    assert summary.empty and list(summary.columns) == ["frequency", "recency", "T", "monetary_value"]


def test_fit_bgnbd_collapses_duplicate_customers_without_changing_the_likelihood(cdnow: pd.DataFrame) -> None:
    doubled = pd.concat([cdnow, cdnow])
    fit = fit_bgnbd(doubled["x"], doubled["t_x"], doubled["T"])
    assert fit.log_likelihood == pytest.approx(
        2 * bgnbd_log_likelihood(fit, cdnow["x"], cdnow["t_x"], cdnow["T"])
    )
    assert fit.r == pytest.approx(0.243, abs=0.01)


def test_fits_survive_a_handful_of_customers_and_reject_none() -> None:
    small = fit_bgnbd([0, 1, 2], [0, 3, 5], [6, 6, 6])
    assert all(np.isfinite([small.r, small.alpha, small.a, small.b]))
    with pytest.raises(ValueError):
        fit_bgnbd([], [], [])
    with pytest.raises(ValueError):
        fit_gamma_gamma([0, 0], [0.0, 0.0])


def test_clv_discounts_future_value_and_grows_with_the_horizon(
    cdnow: pd.DataFrame, bg_fit: BGNBDParams, gg_fit: GammaGammaParams
) -> None:
    args = (bg_fit, gg_fit, cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"])
    twelve = clv(*args, months=12, discount_rate_monthly=0.01)
    undiscounted = clv(*args, months=12, discount_rate_monthly=0.0)
    twenty_four = clv(*args, months=24, discount_rate_monthly=0.01)
    assert np.all(twelve >= 0) and np.all(twelve < undiscounted) and np.all(twenty_four > twelve)
    # Without discounting, CLV is expected purchases in 12 months x expected value per purchase.
    weeks = 365.25 / 7
    direct = expected_purchases(bg_fit, weeks, cdnow["x"], cdnow["t_x"], cdnow["T"]) * expected_average_value(
        gg_fit, cdnow["x"], cdnow["zbar"]
    )
    np.testing.assert_allclose(undiscounted, direct, rtol=1e-9)


def test_fitted_parameters_pickle(bg_fit: BGNBDParams, gg_fit: GammaGammaParams) -> None:
    assert pickle.loads(pickle.dumps((bg_fit, gg_fit))) == (bg_fit, gg_fit)


def test_fits_report_standard_errors_matching_the_published_cdnow_values(
    cdnow: pd.DataFrame, bg_fit: BGNBDParams, gg_fit: GammaGammaParams
) -> None:
    # lifetimes' summaries of the same fits (inverse Hessian of the log-likelihood at the optimum).
    published_bg = {"r": 0.0126, "alpha": 0.3782, "a": 0.1857, "b": 0.7053}
    published_gg = {"p": 1.1897, "q": 0.2902, "v": 4.1599}
    assert bg_fit.report()["standard_errors"] == pytest.approx(published_bg, rel=0.01)
    assert gg_fit.report()["standard_errors"] == pytest.approx(published_gg, rel=0.01)
    # The stand-alone functions give the same numbers for a fit's parameters and data.
    assert bgnbd_standard_errors(bg_fit, cdnow["x"], cdnow["t_x"], cdnow["T"]) == pytest.approx(
        published_bg, rel=0.01
    )
    assert gamma_gamma_standard_errors(gg_fit, cdnow["x"], cdnow["zbar"]) == pytest.approx(
        published_gg, rel=0.01
    )


def test_fits_report_what_they_were_fitted_on(
    cdnow: pd.DataFrame, bg_fit: BGNBDParams, gg_fit: GammaGammaParams
) -> None:
    report = bg_fit.report()
    # 2,357 CDNOW customers with 2,457 repeat purchase days between them, 946 of them repeat buyers.
    assert (
        (report["n_customers"], report["n_repeat_transactions"])
        == (2357, int(cdnow["x"].sum()))
        == (
            2357,
            2457,
        )
    )
    assert report["converged"] is True
    assert report["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert report["params"] == pytest.approx({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, abs=1e-3)
    gg = gg_fit.report()
    assert (gg["n_customers"], gg["n_repeat_transactions"], gg["converged"]) == (946, 2457, True)
    assert gg["log_likelihood"] == pytest.approx(-4055.92, abs=0.01)


def test_standard_errors_are_nan_where_the_likelihood_is_flat() -> None:
    # Nobody ever came back: the dropout parameters a, b are not identified.
    fit = fit_bgnbd([0, 0, 0, 0], [0, 0, 0, 0], [5, 6, 7, 8])
    assert np.isnan(fit.report()["standard_errors"]["a"])
