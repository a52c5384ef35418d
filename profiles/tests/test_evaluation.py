"""The forecast and the offers against naive baselines on a held-out quarter, and the fallbacks they drive.

The numbers are worked out by hand from small frames; the model's own predictions come from the
BG/NBD functions (tested against the paper's figures in pipeline/test_clv.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from profiles.pipeline import PipelineInputs, run_pipeline, score_customer
from profiles.pipeline.clv import DAYS_PER_MONTH, BGNBDParams, expected_purchases
from profiles.pipeline.evaluation import (
    MIN_FORECAST_CUSTOMERS,
    evaluate_forecast,
    evaluate_offers,
    holdout_cutoff,
)
from profiles.pipeline.rules import (
    RULE_COLUMNS,
    offer_reasons,
    offers_from_purchases,
    popular_categories,
    popular_offers,
)
from profiles.pipeline.run import PipelineOutputs

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")
CUTOFF = holdout_cutoff(AS_OF, 90)  # 2024-10-03 00:00 UTC; the last day before it is 2024-10-02
LAST_DAY = pd.Timestamp("2024-10-02 12:00", tz="UTC")


def _orders(rows: list[tuple[str, pd.Timestamp, list[str]]], amount: float = 10.0) -> pd.DataFrame:
    lines = [
        {
            "customer_id": customer,
            "order_id": f"o{n}",
            "ordered_at": at,
            "category": category,
            "amount": amount,
        }
        for n, (customer, at, categories) in enumerate(rows)
        for category in categories
    ]
    return pd.DataFrame(lines)


def _days_before_cutoff(days: int) -> pd.Timestamp:
    return LAST_DAY - pd.Timedelta(days=days)


def test_holdout_cutoff_is_ninety_days_before_the_exclusive_as_of() -> None:
    assert CUTOFF == pd.Timestamp("2024-10-03", tz="UTC")


FORECAST_ORDERS = _orders(
    [
        # a: purchase days 100 and 50 days before the last day before the cutoff, and on it.
        ("a", _days_before_cutoff(100), ["tea"]),
        ("a", _days_before_cutoff(50), ["tea"]),
        ("a", _days_before_cutoff(0), ["tea"]),
        # ... then two orders on one day and one more: 2 purchase days in the holdout.
        ("a", pd.Timestamp("2024-11-01 09:00", tz="UTC"), ["tea"]),
        ("a", pd.Timestamp("2024-11-01 18:00", tz="UTC"), ["cups"]),
        ("a", pd.Timestamp("2024-12-01 12:00", tz="UTC"), ["tea"]),
        # b: once, 30 days before; then once at the holdout's last instant (the as-of instant is out).
        ("b", _days_before_cutoff(30), ["tea"]),
        ("b", pd.Timestamp("2024-12-31 23:59", tz="UTC"), ["tea"]),
        ("b", AS_OF, ["tea"]),
        # c: two purchase days 200 and 100 days before, nothing in the holdout.
        ("c", _days_before_cutoff(200), ["tea"]),
        ("c", _days_before_cutoff(100), ["tea"]),
        # d: 10 and 5 days before and on the last day; then once at the cutoff instant itself.
        ("d", _days_before_cutoff(10), ["tea"]),
        ("d", _days_before_cutoff(5), ["tea"]),
        ("d", _days_before_cutoff(0), ["tea"]),
        ("d", CUTOFF, ["tea"]),
        # e: first bought in the holdout, so nothing to forecast from: not evaluated.
        ("e", pd.Timestamp("2024-11-15 12:00", tz="UTC"), ["tea"]),
    ]
)
BG = BGNBDParams(r=0.24, alpha=4.41, a=0.79, b=2.43)


def test_forecast_mae_of_the_model_same_rate_and_zero_by_hand() -> None:
    result, reason = evaluate_forecast(
        FORECAST_ORDERS, bgnbd=BG, cutoff=CUTOFF, as_of=AS_OF, time_unit_days=7.0, min_customers=4
    )
    assert reason is None and result is not None
    assert result["horizon_days"] == 90 and result["n_customers"] == 4
    # Purchase days in the holdout: a 2, b 1, c 0, d 1.
    actual = np.array([2.0, 1.0, 0.0, 1.0])
    # (repeat purchase days x, first-to-last t_x, first purchase to the cutoff's last day T) in days.
    x = np.array([2.0, 0.0, 1.0, 2.0])
    t_x = np.array([100.0, 0.0, 100.0, 10.0])
    big_t = np.array([100.0, 30.0, 200.0, 10.0])
    # Same rate: x / T per day x 90 = 1.8, 0, 0.45, 18 -> errors 0.2, 1, 0.45, 17.
    assert result["mae"]["same_rate"] == pytest.approx((0.2 + 1 + 0.45 + 17) / 4)
    assert result["mae"]["zero"] == pytest.approx((2 + 1 + 0 + 1) / 4)
    model = expected_purchases(BG, 90 / 7, x, t_x / 7, big_t / 7)
    assert result["mae"]["model"] == pytest.approx(np.abs(model - actual).mean())
    assert result["beats_baseline"] is (result["mae"]["model"] < 1.0)
    assert result["served"] == "model"


def test_forecast_needs_enough_customers_a_fit_and_purchases_in_the_holdout() -> None:
    few, reason = evaluate_forecast(FORECAST_ORDERS, bgnbd=BG, cutoff=CUTOFF, as_of=AS_OF, time_unit_days=7.0)
    assert few is None and reason == {
        "code": "few_customers",
        "message": f"4 customers bought before the holdout, need {MIN_FORECAST_CUSTOMERS}",
        "count": 4,
        "needed": MIN_FORECAST_CUSTOMERS,
    }
    unfitted, reason = evaluate_forecast(
        FORECAST_ORDERS, bgnbd=None, cutoff=CUTOFF, as_of=AS_OF, time_unit_days=7.0, min_customers=4
    )
    assert unfitted is None and reason and reason["code"] == "no_model"
    quiet = FORECAST_ORDERS[FORECAST_ORDERS["ordered_at"] < CUTOFF]
    silent, reason = evaluate_forecast(
        quiet, bgnbd=BG, cutoff=CUTOFF, as_of=AS_OF, time_unit_days=7.0, min_customers=4
    )
    assert silent is None and reason and reason["code"] == "no_purchases"


def _rules(rows: list[tuple[tuple[str, ...], str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"antecedent": a, "consequent": c, "support": 0.1, "confidence": conf, "lift": lift, "count": 5}
            for a, c, conf, lift in rows
        ],
        columns=RULE_COLUMNS,
    )


OFFER_RULES = _rules(
    [(("tea",), "cups", 0.8, 2.0), (("tea",), "kettle", 0.5, 1.5), (("books",), "bookmarks", 0.6, 3.0)]
)
BEFORE, DURING = _days_before_cutoff(20), pd.Timestamp("2024-11-20 12:00", tz="UTC")
OFFER_ORDERS = _orders(
    [
        ("p", BEFORE, ["tea"]),
        ("q", BEFORE, ["tea"]),
        ("r", BEFORE, ["books"]),
        ("s", BEFORE, ["tea", "cups"]),
        ("t", BEFORE, ["snacks"]),
        ("u", BEFORE, ["snacks"]),
        ("u", BEFORE, ["snacks"]),
        ("u", BEFORE, ["snacks"]),
        # The holdout.
        ("p", DURING, ["cups"]),
        ("q", DURING, ["snacks"]),
        ("r", DURING, ["bookmarks", "tea"]),
        ("s", DURING, ["books"]),
        ("t", DURING, ["cups"]),
        ("v", DURING, ["kettle"]),
    ]
)


def test_offer_hit_rates_of_the_rules_and_the_popular_baseline_by_hand() -> None:
    before = OFFER_ORDERS[OFFER_ORDERS["ordered_at"] < CUTOFF]
    # Rules offer p and q [cups, kettle], r [bookmarks], s [kettle]; t and u own nothing a rule starts from.
    rule_offers = offers_from_purchases(OFFER_RULES, before["customer_id"], before["category"], top_n=2)
    assert sorted(rule_offers["customer_id"].unique()) == ["p", "q", "r", "s"]
    # Popular before the cutoff, by customers: tea 3 (p, q, s), snacks 2 (t, u; u's three orders count
    # once), then books and cups 1 each (by name).
    assert popular_categories(before) == ("tea", "snacks", "books", "cups")
    # Less what each customer owns, top 2: p, q, s [snacks, books]; r [tea, snacks]; t, u [tea, books].
    baseline = popular_offers(popular_categories(before), before["customer_id"], before["category"], top_n=2)
    by_customer = {c: list(g.sort_values("rank")["category"]) for c, g in baseline.groupby("customer_id")}
    assert by_customer == {
        "p": ["snacks", "books"],
        "q": ["snacks", "books"],
        "r": ["tea", "snacks"],
        "s": ["snacks", "books"],
        "t": ["tea", "books"],
        "u": ["tea", "books"],
    }
    result, reason = evaluate_offers(
        OFFER_ORDERS, rules=OFFER_RULES, cutoff=CUTOFF, as_of=AS_OF, top_n=2, min_customers=4
    )
    assert reason is None and result is not None
    # Holdout: p cups (rule hit), q snacks (popular hit), r bookmarks + tea (both), s books (popular).
    # t got no rule offer and v bought nothing before: neither is counted.
    assert result == {
        "n_customers": 4,
        "hit_rate": {"model": 2 / 4, "popular": 3 / 4},
        "beats_baseline": False,
        "served": "popular",
    }
    too_few, reason = evaluate_offers(OFFER_ORDERS, rules=OFFER_RULES, cutoff=CUTOFF, as_of=AS_OF, top_n=2)
    assert too_few is None and reason and reason["message"].startswith("4 customers got an offer")


# 31 orders: a in 5 (4 of them with b), b in 8: a -> b has confidence 4/5 and lift (4/5) / (8/31) = 3.1.
# (Cleaning lower-cases category names.)
REASON_ORDERS = _orders(
    [(f"p{i}", BEFORE, ["a", "b"]) for i in range(4)]
    + [("x", BEFORE, ["a"])]
    + [(f"q{i}", BEFORE, ["b"]) for i in range(4)]
    + [(f"c{i}", BEFORE, ["c"]) for i in range(22)]
)


def test_offer_reasons_name_the_rule_behind_each_offer() -> None:
    run = run_pipeline(PipelineInputs(orders=REASON_ORDERS), as_of=AS_OF)
    # Far too little data for a holdout: the rules are served, and the run says why they were not measured.
    evaluation = run.metrics["evaluation"]
    assert evaluation["offers"] is None and evaluation["served"] == {"forecast": "model", "offers": "rules"}
    assert evaluation["reasons"]["offers"]["code"] == "few_offered"
    assert evaluation["reason"].startswith("forecast: BG/NBD could not be fitted")
    x = run.profiles.loc["x"]
    assert x["next_best_offers"] == ["b"]
    # "bought A; customers who buy A buy B 3.1x as often"
    assert x["offer_reasons"] == [
        {
            "category": "b",
            "because": ["a"],
            "lift": pytest.approx(3.1),
            "confidence": pytest.approx(0.8),
            "source": "rules",
        }
    ]
    # b -> a: confidence 4/8, the same lift; nobody without offers gets a reason.
    assert run.profiles.loc["q0", "offer_reasons"][0]["because"] == ["b"]
    assert run.profiles.loc["c0", "offer_reasons"] == [] and run.profiles.loc["c0", "next_best_offers"] == []
    lengths = run.profiles["offer_reasons"].map(len)
    assert lengths.equals(run.profiles["next_best_offers"].map(len))


def test_popular_offer_reasons_have_no_rule() -> None:
    before = OFFER_ORDERS[OFFER_ORDERS["ordered_at"] < CUTOFF]
    offers = popular_offers(("snacks", "tea"), before["customer_id"], before["category"], top_n=2)
    reasons = offer_reasons(offers, index=pd.Index(["p", "u", "nobody"], name="customer_id"))
    assert reasons["p"] == [
        {"category": "snacks", "because": [], "lift": None, "confidence": None, "source": "popular"}
    ]
    assert [reason["category"] for reason in reasons["u"]] == ["tea"]
    assert reasons["nobody"] == []


# Clockwork buyers, every 5, 9, 16 or 30 days for 400 days: "same rate as before" is nearly exact for
# them, BG/NBD's shrinkage towards the population is not. g1 buy tea + cups, g3 snacks; g2 buy tea
# and only in the holdout tea + snacks, so the rule tea -> cups misses for them and the popular
# snacks hits.
INTERVALS = (5, 9, 16, 30)


def _clockwork() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows: list[dict] = []
    for group, size in (("g1", 20), ("g2", 25), ("g3", 20)):
        for i in range(size):
            every = INTERVALS[i % len(INTERVALS)]
            for k, ago in enumerate(np.arange(i % every + 0.5, 400, every)):
                at = AS_OF - pd.Timedelta(days=float(ago))
                if group == "g1":
                    categories = ["tea", "cups"]
                elif group == "g2":
                    categories = ["tea", "snacks"] if at >= CUTOFF else ["tea"]
                else:
                    categories = ["snacks"]
                for category in categories:
                    rows.append(
                        {
                            "customer_id": f"{group}-{i:02d}",
                            "order_id": f"{group}-{i:02d}-{k}",
                            "ordered_at": at,
                            "category": category,
                            "amount": 10.0 + i,
                        }
                    )
    orders = pd.DataFrame(rows)
    return pd.DataFrame({"customer_id": sorted(orders["customer_id"].unique())}), orders


@pytest.fixture(scope="module")
def clockwork() -> tuple[PipelineInputs, PipelineOutputs]:
    customers, orders = _clockwork()
    inputs = PipelineInputs(customers=customers, orders=orders)
    return inputs, run_pipeline(inputs, as_of=AS_OF)


def test_a_forecast_that_loses_to_same_rate_is_replaced_by_it(clockwork) -> None:
    _inputs, run = clockwork
    evaluation = run.metrics["evaluation"]
    forecast = evaluation["forecast"]
    assert forecast["n_customers"] == 65 and forecast["horizon_days"] == 90
    assert forecast["mae"]["same_rate"] < forecast["mae"]["model"] < forecast["mae"]["zero"]
    assert forecast["beats_baseline"] is False and forecast["served"] == "same_rate"
    assert run.models.forecast_source == "same_rate" and evaluation["served"]["forecast"] == "same_rate"
    assert "evaluation" in run.timings and run.warnings == []
    # g1-00 bought every 5 days from 395.5 to 0.5 days before the as-of instant: 80 purchase days, the
    # first 395 days before the as-of day, so 79 repeats in 395 days = 0.2 a day; 20 per day (2 lines of 10).
    row = run.profiles.loc["g1-00"]
    assert row["expected_purchases_90d"] == pytest.approx(18.0)
    assert row["expected_purchases_365d"] == pytest.approx(73.0)
    assert row["expected_spend_90d"] == pytest.approx(360.0)
    assert row["expected_average_value"] == pytest.approx(20.0)
    discount = sum(1 / 1.01**month for month in range(1, 13))
    assert row["clv"] == pytest.approx(0.2 * DAYS_PER_MONTH * 20.0 * discount)
    assert 0 < row["probability_alive"] <= 1


def test_offers_that_lose_to_popular_categories_are_replaced_by_them(clockwork) -> None:
    _inputs, run = clockwork
    offers = run.metrics["evaluation"]["offers"]
    # The 25 g2 customers are the only ones a rule (tea -> cups) had an offer for before the cutoff.
    assert offers == {
        "n_customers": 25,
        "hit_rate": {"model": 0.0, "popular": 1.0},
        "beats_baseline": False,
        "served": "popular",
    }
    assert run.models.offer_source == "popular"
    # Everyone is offered the popular categories they have not bought.
    assert run.profiles.loc["g1-00", "next_best_offers"] == ["snacks"]
    assert run.profiles.loc["g2-00", "next_best_offers"] == ["cups"]
    assert run.profiles.loc["g3-00", "next_best_offers"] == ["tea", "cups"]
    assert run.profiles.loc["g1-00", "offer_reasons"] == [
        {"category": "snacks", "because": [], "lift": None, "confidence": None, "source": "popular"}
    ]


@pytest.mark.parametrize("customer_id", ["g1-00", "g2-07", "g3-13"])
def test_score_customer_serves_the_same_fallbacks_as_the_run(clockwork, customer_id: str) -> None:
    inputs, run = clockwork
    row = score_customer(run.models, inputs, customer_id=customer_id, as_of=AS_OF).iloc[0]
    expected = run.profiles.loc[customer_id]
    for column in ("expected_purchases_90d", "expected_purchases_365d", "expected_spend_365d", "clv"):
        assert row[column] == pytest.approx(expected[column], rel=1e-12)
    assert row["next_best_offers"] == expected["next_best_offers"]
    assert row["offer_reasons"] == expected["offer_reasons"]
