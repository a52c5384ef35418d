"""Association rules between product categories, and the next best offers they imply.

Frequent itemsets are mined Apriori-style with sparse matrix products instead of FP-growth's tree:
with itemsets capped at three categories, co-occurrence counts for all pairs are one product
(baskets x categories)^T (baskets x categories), and for all triples one more product of the
frequent-pair indicator columns with the category matrix. That is exact, needs no per-basket Python
loop and stays fast for millions of baskets. A basket is an order.

Rules have a single consequent category (that is what an offer is): {A} -> B and {A, B} -> C.
Each offer keeps the antecedent its rule fired on, so a card can say why ("bought A; customers who buy
A buy B 3.1x as often"). `popular_offers` is the naive baseline the rules are measured against (see
`evaluation.py`), and what is served when the rules lose to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from .frames import lists_per_customer

RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift", "count"]
# antecedent: the categories the rule fired on (a sorted tuple; () for a popular-category offer);
# source: "rules" or "popular" (OFFER_SOURCES).
OFFER_COLUMNS = ["customer_id", "rank", "category", "support", "confidence", "lift", "antecedent", "source"]
OFFER_SOURCES = ("rules", "popular")


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """np.unique(keys) for an int64 array, by a sort: numpy 2.4's plain np.unique hashes instead, and
    on millions of keys that measured 3.7 s against 0.05 s for the sort."""
    ordered = np.sort(keys)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _basket_matrix(orders: pd.DataFrame) -> tuple[sparse.csr_matrix, np.ndarray]:
    pairs = orders[["order_id", "category"]].dropna()
    basket_codes, baskets = pd.factorize(pairs["order_id"])
    category_codes, categories = pd.factorize(pairs["category"], sort=True)
    data = np.ones(len(pairs), dtype=np.int32)
    matrix = sparse.csr_matrix((data, (basket_codes, category_codes)), shape=(len(baskets), len(categories)))
    # A category bought twice in one order is still one basket item.
    matrix.data[:] = 1
    return matrix, np.asarray(categories, dtype=object)


def association_rules(
    orders: pd.DataFrame,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.1,
    max_len: int = 3,
    min_count: int = 2,
) -> pd.DataFrame:
    """Rules antecedent -> consequent between categories bought in the same order.

    Columns: antecedent (sorted tuple of categories), consequent, support (share of orders with all of
    them), confidence, lift, count (orders). An itemset needs both `min_support` and `min_count` orders,
    so one shared basket in a tiny shop is not a rule. Sorted by lift, confidence, then names.
    """
    if not 2 <= max_len <= 3:
        raise ValueError("max_len must be 2 or 3")
    if orders.empty:
        return pd.DataFrame(columns=RULE_COLUMNS)
    matrix, categories = _basket_matrix(orders)
    n_baskets = matrix.shape[0]
    threshold = max(min_support * n_baskets, min_count)
    item_counts = np.asarray(matrix.sum(axis=0)).ravel()
    frequent = np.flatnonzero(item_counts >= threshold)
    if len(frequent) < 2:
        return pd.DataFrame(columns=RULE_COLUMNS)
    items = matrix[:, frequent].tocsc()
    pair_counts = (items.T @ items).toarray()
    first, second = np.nonzero(np.triu(pair_counts >= threshold, k=1))

    rows: list[pd.DataFrame] = []
    pair_support = pair_counts[first, second]
    for ante, cons in ((first, second), (second, first)):
        rows.append(_rules(ante[:, None], cons, pair_support, item_counts[frequent[ante]]))

    if max_len == 3 and len(first):
        pair_columns = items[:, first].multiply(items[:, second]).tocsc()
        triple_counts = (pair_columns.T @ items).toarray()
        pair_index, third = np.nonzero(triple_counts >= threshold)
        keep = third > second[pair_index]
        pair_index, third = pair_index[keep], third[keep]
        counts = triple_counts[pair_index, third]
        i, j = first[pair_index], second[pair_index]
        for ante_a, ante_b, cons in ((i, j, third), (i, third, j), (j, third, i)):
            rows.append(_rules(np.column_stack([ante_a, ante_b]), cons, counts, pair_counts[ante_a, ante_b]))

    rules = pd.concat(rows, ignore_index=True)
    rules["support"] = rules["count"] / n_baskets
    rules["confidence"] = rules["count"] / rules["antecedent_count"]
    consequent_support = item_counts[frequent[rules["consequent_index"].to_numpy()]] / n_baskets
    rules["lift"] = rules["confidence"] / consequent_support
    rules = rules[rules["confidence"] >= min_confidence]
    names = categories[frequent]
    rules["antecedent"] = [tuple(names[list(idx)]) for idx in rules["antecedent_index"]]
    rules["consequent"] = names[rules["consequent_index"].to_numpy()]
    rules["count"] = rules["count"].astype("int64")
    rules = rules.sort_values(
        ["lift", "confidence", "consequent"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    return rules[RULE_COLUMNS]


def _rules(
    antecedents: np.ndarray, consequents: np.ndarray, counts: np.ndarray, antecedent_counts: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "antecedent_index": [tuple(sorted(int(v) for v in row)) for row in antecedents],
            "consequent_index": consequents.astype(np.int64),
            "count": counts.astype(np.float64),
            "antecedent_count": antecedent_counts.astype(np.float64),
        }
    )


def customer_categories(orders: pd.DataFrame) -> pd.Series:
    """Set of categories each customer has bought (index customer_id)."""
    pairs = orders[["customer_id", "category"]].dropna().drop_duplicates()
    return pairs.groupby("customer_id", observed=True)["category"].agg(frozenset).rename("categories")


def next_best_offers(rules: pd.DataFrame, customer_categories: pd.Series, top_n: int = 3) -> pd.DataFrame:
    """Up to `top_n` categories per customer that rules predict and the customer has not bought.

    A rule applies when the customer owns its whole antecedent. For each category the strongest
    applicable rule counts; offers rank by confidence, then lift, then name.
    """
    owned = customer_categories.rename("category").rename_axis("customer_id").explode().dropna().reset_index()
    return offers_from_purchases(rules, owned["customer_id"], owned["category"], top_n=top_n)


def _rule_arrays(rules: pd.DataFrame, items: pd.Index) -> dict[str, np.ndarray]:
    antecedents = rules["antecedent"].map(tuple)
    return {
        "first": items.get_indexer(antecedents.str[0]),
        "second": items.get_indexer(antecedents.map(lambda a: a[1] if len(a) > 1 else None)),
        "consequent": items.get_indexer(rules["consequent"]),
        "support": rules["support"].to_numpy(dtype=np.float64),
        "confidence": rules["confidence"].to_numpy(dtype=np.float64),
        "lift": rules["lift"].to_numpy(dtype=np.float64),
    }


def offers_from_purchases(
    rules: pd.DataFrame,
    customer_ids: pd.Series,
    categories: pd.Series,
    *,
    top_n: int = 3,
    chunk_size: int = 200_000,
) -> pd.DataFrame:
    """next_best_offers from (customer_id, category) purchase pairs, e.g. straight from order lines.

    Each offer carries the antecedent of the rule behind it (source "rules"). Works on integer codes,
    in chunks of customers so that a million customers never need one giant intermediate frame.
    """
    if rules.empty or len(customer_ids) == 0:
        return pd.DataFrame(columns=OFFER_COLUMNS)
    items = pd.Index(sorted(set(rules["consequent"]) | {c for a in rules["antecedent"] for c in a}))
    rule = _rule_arrays(rules, items)
    antecedents = rules["antecedent"].map(tuple).to_numpy(dtype=object)
    width = len(items)
    item = items.get_indexer(categories)
    customer, customer_names = pd.factorize(customer_ids)
    keep = (item >= 0) & (customer >= 0)
    owned_keys = sorted_unique(customer[keep].astype(np.int64) * width + item[keep])
    by_first = pd.DataFrame({"rule": np.arange(len(rules)), "item": rule["first"]})

    offers: list[pd.DataFrame] = []
    bounds = np.searchsorted(owned_keys // width, np.arange(0, len(customer_names) + chunk_size, chunk_size))
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        keys = owned_keys[lo:hi]
        owned = pd.DataFrame({"customer": keys // width, "item": keys % width})
        hits = owned.merge(by_first, on="item")
        who, which = hits["customer"].to_numpy(), hits["rule"].to_numpy()
        second = rule["second"][which]
        has_second = np.isin(who * width + second, keys)
        consequent = rule["consequent"][which]
        applies = ((second < 0) | has_second) & ~np.isin(who * width + consequent, keys)
        who, which, consequent = who[applies], which[applies], consequent[applies]
        confidence, lift = rule["confidence"][which], rule["lift"][which]
        # Strongest rule per (customer, category), then rank categories within each customer.
        order = np.lexsort((-lift, -confidence, consequent, who))
        pair = who[order] * width + consequent[order]
        best = order[np.r_[True, pair[1:] != pair[:-1]]] if len(order) else order
        order = best[np.lexsort((consequent[best], -lift[best], -confidence[best], who[best]))]
        starts = np.r_[0, np.flatnonzero(np.diff(who[order])) + 1] if len(order) else np.array([], dtype=int)
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)])) + 1
        chosen, rank = order[rank <= top_n], rank[rank <= top_n]
        offers.append(
            pd.DataFrame(
                {
                    "customer_id": pd.Series(customer_names.take(who[chosen]), dtype="str"),
                    "rank": rank.astype(np.int64),
                    "category": pd.Series(items.take(consequent[chosen]), dtype="str"),
                    "support": rule["support"][which[chosen]],
                    "confidence": confidence[chosen],
                    "lift": lift[chosen],
                    "antecedent": antecedents.take(which[chosen]),
                    "source": "rules",
                }
            )
        )
    return pd.concat(offers, ignore_index=True)[OFFER_COLUMNS]


def purchase_pairs(orders: pd.DataFrame) -> pd.DataFrame:
    """The distinct (customer_id, category) pairs of order lines: what offers look at (who owns what),
    a fraction of the lines, found on integer codes."""
    data = orders[orders["customer_id"].notna() & orders["category"].notna()]
    customer, customers = pd.factorize(data["customer_id"])
    item, items = pd.factorize(data["category"], sort=True)
    width = max(len(items), 1)
    keys = sorted_unique(customer.astype(np.int64) * width + item)
    return pd.DataFrame(
        {
            "customer_id": customers.take(keys // width),
            "category": pd.Index(items, dtype="str").take(keys % width),
        }
    )


def popular_categories(orders: pd.DataFrame) -> tuple[str, ...]:
    """Every category ranked by the number of customers who bought it, ties by name: the "most popular
    categories" baseline of the offers, and their fallback. `orders` may be lines or purchase_pairs."""
    pairs = purchase_pairs(orders)
    if pairs.empty:
        return ()
    counts = pairs["category"].value_counts()
    ranked = pd.DataFrame({"category": counts.index.astype("str"), "customers": counts.to_numpy()})
    ranked = ranked.sort_values(["customers", "category"], ascending=[False, True], kind="stable")
    return tuple(ranked["category"].tolist())


def popular_offers(
    popular: Sequence[str], customer_ids: pd.Series, categories: pd.Series, *, top_n: int = 3
) -> pd.DataFrame:
    """The `top_n` most popular categories each buyer has not bought (the exclusion rule offers use),
    in OFFER_COLUMNS with source "popular", no antecedent and no confidence or lift.

    `popular` is the ranking of `popular_categories`; every customer in `customer_ids` (purchase rows)
    gets offers. Customer i looks at the first top_n + (categories i owns) ranks only, so the work is
    linear in customers and purchases whatever the number of categories.
    """
    items = pd.Index(list(popular), dtype="str")
    width = len(items)
    if width == 0 or len(customer_ids) == 0 or top_n < 1:
        return pd.DataFrame(columns=OFFER_COLUMNS)
    customer, customer_names = pd.factorize(customer_ids)
    item = items.get_indexer(categories)
    seen = (customer >= 0) & (item >= 0)
    owned_keys = sorted_unique(customer[seen].astype(np.int64) * width + item[seen])
    n = len(customer_names)
    length = np.minimum(top_n + np.bincount(owned_keys // width, minlength=n), width)
    who = np.repeat(np.arange(n, dtype=np.int64), length)
    position = np.arange(len(who)) - np.repeat(np.cumsum(length) - length, length)
    free = ~np.isin(who * width + position, owned_keys)
    who, position = who[free], position[free]
    starts = np.r_[0, np.flatnonzero(np.diff(who)) + 1] if len(who) else np.array([], dtype=np.int64)
    rank = np.arange(len(who)) - np.repeat(starts, np.diff(np.r_[starts, len(who)])) + 1
    chosen = rank <= top_n
    who, position, rank = who[chosen], position[chosen], rank[chosen]
    count = len(who)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(customer_names.take(who), dtype="str"),
            "rank": rank.astype(np.int64),
            "category": pd.Series(items.take(position), dtype="str"),
            "support": np.full(count, np.nan),
            "confidence": np.full(count, np.nan),
            "lift": np.full(count, np.nan),
            "antecedent": pd.Series([()] * count, dtype=object),
            "source": "popular",
        }
    )[OFFER_COLUMNS]


def offer_reasons(offers: pd.DataFrame, *, index: pd.Index) -> pd.Series:
    """Per customer of `index`, one dict per offer in rank order (aligned with next_best_offers):
    {"category", "because" (the antecedent as a list), "lift", "confidence", "source"}; lift and
    confidence are None for a popular-category offer. [] for a customer without offers."""
    lift = offers["lift"].to_numpy(dtype=np.float64)
    confidence = offers["confidence"].to_numpy(dtype=np.float64)
    reasons = [
        {
            "category": category,
            "because": list(because),
            "lift": None if math.isnan(lift_value) else lift_value,
            "confidence": None if math.isnan(confidence_value) else confidence_value,
            "source": source,
        }
        for category, because, lift_value, confidence_value, source in zip(
            offers["category"].astype("str").tolist(),
            offers["antecedent"].tolist(),
            lift.tolist(),
            confidence.tolist(),
            offers["source"].astype("str").tolist(),
            strict=True,
        )
    ]
    values = pd.Series(reasons, index=offers.index, dtype=object)
    return lists_per_customer(offers["customer_id"], offers["rank"], values, index).rename("offer_reasons")
