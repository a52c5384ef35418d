"""Association rules between categories (support, confidence, lift by hand) and next best offers."""

from __future__ import annotations

import pandas as pd
import pytest

from profiles.pipeline.rules import (
    association_rules,
    customer_categories,
    next_best_offers,
    offers_from_purchases,
)


def _orders(baskets: dict[str, tuple[str, list[str]]]) -> pd.DataFrame:
    rows = [
        {"order_id": order, "customer_id": customer, "category": category}
        for order, (customer, categories) in baskets.items()
        for category in categories
    ]
    return pd.DataFrame(rows)


BASKETS = {
    "1": ("a", ["tea", "cups"]),
    "2": ("b", ["tea", "cups"]),
    "3": ("c", ["tea", "cups", "kettle"]),
    "4": ("d", ["tea"]),
    "5": ("e", ["tea", "cups", "kettle"]),
    "6": ("f", ["books"]),
    "7": ("f", ["books", "books"]),
    "8": ("g", ["kettle"]),
}


def _rule(rules: pd.DataFrame, antecedent: tuple[str, ...], consequent: str) -> pd.Series:
    match = rules[(rules["antecedent"] == antecedent) & (rules["consequent"] == consequent)]
    assert len(match) == 1, f"expected one rule {antecedent} -> {consequent}"
    return match.iloc[0]


def test_association_rules_compute_support_confidence_and_lift_of_pairs() -> None:
    rules = association_rules(_orders(BASKETS), min_support=0.2, min_confidence=0.1)
    tea_cups = _rule(rules, ("tea",), "cups")
    # 8 orders; tea in 5, cups in 4, both in 4.
    assert tea_cups["support"] == pytest.approx(4 / 8)
    assert tea_cups["confidence"] == pytest.approx(4 / 5)
    assert tea_cups["lift"] == pytest.approx((4 / 5) / (4 / 8))
    assert tea_cups["count"] == 4
    assert _rule(rules, ("cups",), "tea")["confidence"] == pytest.approx(1.0)


def test_association_rules_find_triples_with_two_category_antecedents() -> None:
    rules = association_rules(_orders(BASKETS), min_support=0.2, min_confidence=0.1, max_len=3)
    rule = _rule(rules, ("cups", "tea"), "kettle")
    assert rule["support"] == pytest.approx(2 / 8)
    assert rule["confidence"] == pytest.approx(2 / 4)
    assert rule["lift"] == pytest.approx((2 / 4) / (3 / 8))
    pairs_only = association_rules(_orders(BASKETS), min_support=0.2, min_confidence=0.1, max_len=2)
    assert pairs_only["antecedent"].map(len).max() == 1


def test_association_rules_respect_min_support_min_confidence_and_sort_by_lift() -> None:
    rules = association_rules(_orders(BASKETS), min_support=0.3, min_confidence=0.9)
    # kettle appears in 3 of 8 orders with others only twice: below 30% support.
    assert (
        not rules["consequent"].eq("kettle").any()
        and not rules["antecedent"].map(set).map({"kettle"}.issubset).any()
    )
    assert (rules["confidence"] >= 0.9).all()
    assert rules["lift"].is_monotonic_decreasing


def test_association_rules_need_a_pattern_seen_in_at_least_two_orders() -> None:
    single = _orders({"1": ("a", ["tea", "cups"]), "2": ("b", ["books"])})
    assert association_rules(single, min_support=0.0).empty


def test_association_rules_of_no_orders_or_one_category_are_empty() -> None:
    assert association_rules(pd.DataFrame(columns=["order_id", "customer_id", "category"])).empty
    assert association_rules(_orders({"1": ("a", ["tea"]), "2": ("b", ["tea"])})).empty


def test_next_best_offers_rank_unbought_categories_by_the_strongest_applicable_rule() -> None:
    orders = _orders(BASKETS)
    rules = association_rules(orders, min_support=0.2, min_confidence=0.1)
    offers = next_best_offers(rules, customer_categories(orders), top_n=3)
    by_customer = {c: list(g.sort_values("rank")["category"]) for c, g in offers.groupby("customer_id")}
    # d bought tea: tea -> cups (0.8) beats tea -> kettle (0.4).
    assert by_customer["d"] == ["cups", "kettle"]
    # a bought tea and cups: {cups, tea} -> kettle applies; nothing already bought is offered.
    assert by_customer["a"] == ["kettle"]
    assert "c" not in by_customer and "f" not in by_customer
    assert offers.loc[offers["customer_id"] == "d", "rank"].tolist() == [1, 2]
    top_one = next_best_offers(rules, customer_categories(orders), top_n=1)
    assert top_one.groupby("customer_id").size().max() == 1


def test_offers_from_purchases_match_next_best_offers_whatever_the_chunk_size() -> None:
    orders = _orders(BASKETS)
    rules = association_rules(orders, min_support=0.2, min_confidence=0.1)
    whole = next_best_offers(rules, customer_categories(orders))
    chunked = offers_from_purchases(rules, orders["customer_id"], orders["category"], chunk_size=2)
    pd.testing.assert_frame_equal(
        whole.sort_values(["customer_id", "rank"]).reset_index(drop=True),
        chunked.sort_values(["customer_id", "rank"]).reset_index(drop=True),
    )


def test_next_best_offers_without_rules_or_customers_are_empty() -> None:
    empty_rules = association_rules(pd.DataFrame(columns=["order_id", "customer_id", "category"]))
    assert next_best_offers(empty_rules, pd.Series({"a": frozenset({"tea"})})).empty
    rules = association_rules(_orders(BASKETS), min_support=0.2)
    assert next_best_offers(rules, pd.Series(dtype=object)).empty
