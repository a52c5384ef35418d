"""Customer lifetime value: BG/NBD for repeat purchases plus Gamma-Gamma for spend per purchase.

BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2).
Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (note 025).

Both are fitted by maximum likelihood in log-parameter space (so the optimiser cannot leave the
positive orthant). Customers with identical (frequency, recency, T) are collapsed to one weighted row
before fitting: with day-level data most one-off buyers share a handful of triples, which makes a fit on
a million customers cost about the same as one on a few thousand.

Units: recency and T are measured in periods of `time_unit_days` days (weeks in the CDNOW literature);
frequency counts repeat purchase *days*, as in the papers. Days are calendar days in the given time zone
(the server's TIME_ZONE in the product), so a purchase at 07:00 in Shanghai is on that Shanghai day.

Each fit reports what it was fitted on (customers, repeat transactions), its log-likelihood, whether the
optimiser converged and the parameters' standard errors from the observed information (the inverse
Hessian of the log-likelihood at the optimum).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import expit, gammaln, hyp2f1

from .frames import (
    as_of_day,
    as_utc_timestamp,
    conform,
    id_categories,
    id_codes,
    local_days,
    share_customer_ids,
)

DAYS_PER_MONTH = 365.25 / 12
# exp(+-12) spans every sensible scale for these parameters; bounds keep tiny samples from diverging.
_LOG_BOUND = 12.0


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    converged: bool = True
    n_repeat_transactions: int = 0
    # (se_r, se_alpha, se_a, se_b); NaN where the information matrix is singular at the optimum.
    standard_errors: tuple[float, ...] = ()

    names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")

    def report(self) -> dict[str, Any]:
        """What the run page and admin show: fitted on, log-likelihood, convergence, parameters +- SE."""
        return _report(self, self.names)


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma spend parameters (p, q, v); v is the paper's gamma."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    converged: bool = True
    n_repeat_transactions: int = 0
    # (se_p, se_q, se_v)
    standard_errors: tuple[float, ...] = ()

    names: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    def report(self) -> dict[str, Any]:
        return _report(self, self.names)


def _report(params: BGNBDParams | GammaGammaParams, names: tuple[str, ...]) -> dict[str, Any]:
    errors = params.standard_errors or (float("nan"),) * len(names)
    return {
        "n_customers": params.n_customers,
        "n_repeat_transactions": params.n_repeat_transactions,
        "log_likelihood": params.log_likelihood,
        "converged": params.converged,
        "params": {name: getattr(params, name) for name in names},
        "standard_errors": dict(zip(names, (float(e) for e in errors), strict=True)),
    }


def _array(values: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64)


# Day counting lives in frames (one helper for every step, shared with clean/features): the local day of
# each stamp, and the as-of day D of an exclusive cutoff (the start of D+1 gives D, not D+1).
# (imported above: `local_days`, `as_of_day`).


def rfm_summary(
    orders: pd.DataFrame, *, as_of: object, time_unit_days: float = 7.0, timezone: str = "UTC"
) -> pd.DataFrame:
    """Per-customer (frequency, recency, T, monetary_value) as the BG/NBD and Gamma-Gamma papers define them.

    Purchases are aggregated per calendar day in `timezone`. frequency = purchase days - 1, recency =
    first to last purchase day, T = first purchase day to the day of `as_of`, all in periods of
    `time_unit_days`; monetary_value is the mean daily spend over the repeat days (0 for one-off
    buyers). Orders after `as_of` are ignored.
    """
    cutoff = as_utc_timestamp(as_of)
    data = conform(orders, "orders")
    data = data[data["ordered_at"].lt(cutoff) & data["customer_id"].notna()]  # cutoff is exclusive
    columns = ["frequency", "recency", "T", "monetary_value"]
    if data.empty:
        return pd.DataFrame(columns=columns, dtype="float64").rename_axis("customer_id")
    (data,) = share_customer_ids(data)
    customer = id_codes(data)
    day = local_days(data["ordered_at"], timezone)
    base_day = int(day.min())
    span = int(day.max()) - base_day + 1
    # One int64 key per (customer, day); sorted keys list each customer's purchase days in order.
    keys, inverse = np.unique(customer * span + (day - base_day), return_inverse=True)
    daily_amount = np.bincount(inverse, weights=data["amount"].to_numpy(), minlength=len(keys))
    key_customer, key_day = keys // span, keys % span + base_day
    starts = np.r_[0, np.flatnonzero(np.diff(key_customer)) + 1]
    ends = np.r_[starts[1:], len(keys)] - 1
    count = (ends - starts + 1).astype(np.float64)
    total = np.add.reduceat(daily_amount, starts)
    frequency = count - 1
    unit_days = float(time_unit_days)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (key_day[ends] - key_day[starts]) / unit_days,
            "T": (as_of_day(cutoff, timezone) - key_day[starts]) / unit_days,
            "monetary_value": np.divide(
                total - daily_amount[starts], frequency, out=np.zeros(len(starts)), where=frequency > 0
            ),
        },
        index=pd.Index(id_categories(data).take(key_customer[starts]), dtype="str"),
    )
    return summary.rename_axis("customer_id")


def _collapse(*columns: NDArray[np.float64]) -> tuple[list[NDArray[np.float64]], NDArray[np.float64]]:
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(np.float64)


def _bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: NDArray, t_x: NDArray, T: NDArray
) -> NDArray[np.float64]:
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    base += gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    still_alive = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # b + x - 1 is only meaningful for repeat buyers; the placeholder keeps log() quiet elsewhere.
    safe = np.where(repeat, b + x - 1, 1.0)
    dropped = np.where(repeat, np.log(a) - np.log(safe) - (r + x) * np.log(alpha + t_x), -np.inf)
    return base + np.logaddexp(still_alive, dropped)


def bgnbd_log_likelihood(
    params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> float:
    """Total BG/NBD log-likelihood of the data under `params`."""
    ll = _bgnbd_log_likelihood(
        params.r, params.alpha, params.a, params.b, _array(frequency), _array(recency), _array(T)
    )
    return float(ll.sum())


def _minimise(
    objective: Callable[[NDArray[np.float64]], float], start: NDArray[np.float64]
) -> tuple[NDArray[np.float64], float, bool]:
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    first = minimize(objective, start, method="L-BFGS-B", bounds=bounds)
    if first.success:
        return first.x, float(first.fun), True
    # Nelder-Mead needs no gradient, so it gets past the spots where finite differences stall L-BFGS-B.
    second = minimize(
        objective,
        np.clip(first.x, -_LOG_BOUND, _LOG_BOUND),
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000},
    )
    best = second if second.fun <= first.fun else first
    return best.x, float(best.fun), bool(second.success)


def _bgnbd_total(log_params: NDArray, x: NDArray, t_x: NDArray, T: NDArray, weights: NDArray) -> float:
    """The weighted total BG/NBD log-likelihood at log-parameters (log r, log alpha, log a, log b)."""
    r, alpha, a, b = (float(value) for value in np.exp(log_params))
    return float((weights * _bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T)).sum())


def _gamma_gamma_total(log_params: NDArray, x: NDArray, m: NDArray, weights: NDArray) -> float:
    """The weighted total Gamma-Gamma log-likelihood at log-parameters (log p, log q, log v)."""
    p, q, v = (float(value) for value in np.exp(log_params))
    return float((weights * _gamma_gamma_log_likelihood(p, q, v, x, m)).sum())


def _hessian(function: Callable[[NDArray[np.float64]], float], point: NDArray[np.float64]) -> NDArray:
    """Central finite-difference Hessian of `function` at `point` (a handful of parameters)."""
    n = len(point)
    step = 1e-4 * np.maximum(1.0, np.abs(point))
    hessian = np.empty((n, n))
    centre = function(point)
    for i in range(n):
        for j in range(i, n):
            if i == j:
                up, down = point.copy(), point.copy()
                up[i] += step[i]
                down[i] -= step[i]
                value = (function(up) - 2.0 * centre + function(down)) / step[i] ** 2
            else:
                corners = []
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    moved = point.copy()
                    moved[i] += si * step[i]
                    moved[j] += sj * step[j]
                    corners.append(function(moved))
                value = (corners[0] - corners[1] - corners[2] + corners[3]) / (4.0 * step[i] * step[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def _standard_errors(
    log_likelihood: Callable[[NDArray[np.float64]], float], log_params: NDArray[np.float64]
) -> tuple[float, ...]:
    """Standard errors of exp(log_params) from the observed information at the optimum.

    The Hessian of the total log-likelihood is taken in log-parameter space (better conditioned) and
    mapped back with the delta method, se(theta) = theta * se(log theta). NaN when the information
    matrix is not positive definite (an optimum on a bound, or a flat direction).
    """
    information = -_hessian(log_likelihood, log_params)
    try:
        np.linalg.cholesky(information)
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return (float("nan"),) * len(log_params)
    return tuple(float(e) for e in np.exp(log_params) * np.sqrt(np.clip(np.diag(covariance), 0.0, None)))


def bgnbd_standard_errors(
    params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> dict[str, float]:
    """Standard errors of (r, alpha, a, b) at `params` from the Hessian of the data's log-likelihood."""
    (x, t_x, big_t), weights = _collapse(_array(frequency), _array(recency), _array(T))

    def total(log_params: NDArray[np.float64]) -> float:
        return _bgnbd_total(log_params, x, t_x, big_t, weights)

    point = np.log([params.r, params.alpha, params.a, params.b])
    return dict(zip(BGNBDParams.names, _standard_errors(total, point), strict=True))


def gamma_gamma_standard_errors(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> dict[str, float]:
    """Standard errors of (p, q, v) at `params` from the Hessian of the repeat buyers' log-likelihood."""
    x, m = _array(frequency), _array(monetary_value)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    (x, m), weights = _collapse(x[keep], m[keep])

    def total(log_params: NDArray[np.float64]) -> float:
        return _gamma_gamma_total(log_params, x, m, weights)

    point = np.log([params.p, params.q, params.v])
    return dict(zip(GammaGammaParams.names, _standard_errors(total, point), strict=True))


def fit_bgnbd(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, *, penalizer: float = 0.0
) -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit; `penalizer` adds an L2 penalty on the parameters for small samples."""
    x, t_x, big_t = _array(frequency), _array(recency), _array(T)
    if len(x) == 0:
        raise ValueError("cannot fit BG/NBD on zero customers")
    (x, t_x, big_t), weights = _collapse(x, t_x, big_t)
    total = weights.sum()

    def objective(log_params: NDArray[np.float64]) -> float:
        r, alpha, a, b = np.exp(log_params)
        ll = _bgnbd_log_likelihood(r, alpha, a, b, x, t_x, big_t)
        return float(-(weights * ll).sum() / total + penalizer * np.sum(np.exp(log_params) ** 2))

    start = np.log(np.array([1.0, max(float(np.mean(big_t)), 1e-3), 1.0, 1.0]))
    log_params, _value, converged = _minimise(objective, start)
    r, alpha, a, b = np.exp(log_params)

    def log_likelihood(point: NDArray[np.float64]) -> float:
        return _bgnbd_total(point, x, t_x, big_t, weights)

    return BGNBDParams(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=log_likelihood(log_params),
        n_customers=int(total),
        converged=converged and bool(np.all(np.abs(log_params) < _LOG_BOUND - 1e-6)),
        n_repeat_transactions=int(round(float((weights * x).sum()))),
        standard_errors=_standard_errors(log_likelihood, log_params),
    )


def _log_odds_dead(params: BGNBDParams, x: NDArray, t_x: NDArray, T: NDArray) -> NDArray[np.float64]:
    repeat = x > 0
    safe = np.where(repeat, params.b + x - 1, 1.0)
    log_ratio = (
        np.log(params.a)
        - np.log(safe)
        + (params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + t_x))
    )
    return np.where(repeat, log_ratio, -np.inf)


def probability_alive(
    params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """P(customer is still active | history); always 1 for customers with no repeat purchase (BG/NBD)."""
    x, t_x, big_t = _array(frequency), _array(recency), _array(T)
    return expit(-_log_odds_dead(params, x, t_x, big_t))


def expected_purchases(
    params: BGNBDParams, t: float | ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Expected number of purchases in the next `t` periods given each customer's history (FHL eq. 10)."""
    x, t_x, big_t, horizon = _array(frequency), _array(recency), _array(T), _array(t)
    r, alpha, b = params.r, params.alpha, params.b
    # a = 1 is a removable singularity of the closed form; a nudge keeps ~8 significant digits.
    a = params.a if abs(params.a - 1.0) > 1e-8 else 1.0 + 1e-8
    z = horizon / (alpha + big_t + horizon)
    # Euler's transformation of 2F1 absorbs ((alpha+T)/(alpha+T+t))^(r+x): the printed form multiplies a
    # vanishing power by a huge series and in float64 becomes 0 x inf = NaN for x in the thousands.
    tail = (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail)
    result = numerator * probability_alive(params, x, t_x, big_t)
    return np.maximum(np.nan_to_num(result, nan=0.0, posinf=0.0), 0.0)


def _gamma_gamma_log_likelihood(p: float, q: float, v: float, x: NDArray, m: NDArray) -> NDArray[np.float64]:
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


def fit_gamma_gamma(
    frequency: ArrayLike, monetary_value: ArrayLike, *, penalizer: float = 0.0
) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on repeat buyers (frequency > 0 and positive spend only)."""
    x, m = _array(frequency), _array(monetary_value)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    if not keep.any():
        raise ValueError("cannot fit Gamma-Gamma without repeat buyers")
    (x, m), weights = _collapse(x[keep], m[keep])
    total = weights.sum()

    def objective(log_params: NDArray[np.float64]) -> float:
        p, q, v = np.exp(log_params)
        ll = _gamma_gamma_log_likelihood(p, q, v, x, m)
        return float(-(weights * ll).sum() / total + penalizer * np.sum(np.exp(log_params) ** 2))

    start = np.log(np.array([1.0, 1.0, max(float(np.average(m, weights=weights)), 1e-3)]))
    log_params, _value, converged = _minimise(objective, start)
    p, q, v = np.exp(log_params)

    def log_likelihood(point: NDArray[np.float64]) -> float:
        return _gamma_gamma_total(point, x, m, weights)

    return GammaGammaParams(
        p=float(p),
        q=float(q),
        v=float(v),
        log_likelihood=log_likelihood(log_params),
        n_customers=int(total),
        converged=converged and bool(np.all(np.abs(log_params) < _LOG_BOUND - 1e-6)),
        n_repeat_transactions=int(round(float((weights * x).sum()))),
        standard_errors=_standard_errors(log_likelihood, log_params),
    )


def expected_average_value(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> NDArray[np.float64]:
    """E[spend per purchase | history]: shrinks each customer's observed mean towards the population mean."""
    x, m = _array(frequency), np.nan_to_num(_array(monetary_value), nan=0.0)
    p, q, v = params.p, params.q, params.v
    if q <= 1.0:
        # The population mean p*v/(q-1) does not exist; fall back to the observed means.
        return np.where(x > 0, m, np.nan)
    return p * (v + x * m) / (p * x + q - 1.0)


def clv(
    bg: BGNBDParams,
    gg: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    months: int = 12,
    discount_rate_monthly: float = 0.01,
    time_unit_days: float = 7.0,
) -> NDArray[np.float64]:
    """Discounted expected spend over the next `months`: sum of monthly new purchases x value / (1+d)^m."""
    x, t_x, big_t = _array(frequency), _array(recency), _array(T)
    value = expected_average_value(gg, x, monetary_value)
    periods_per_month = DAYS_PER_MONTH / time_unit_days
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for month in range(1, months + 1):
        cumulative = expected_purchases(bg, month * periods_per_month, x, t_x, big_t)
        total += (cumulative - previous) * value / (1.0 + discount_rate_monthly) ** month
        previous = cumulative
    return total
