"""Association rules between product categories, and the next best offers they imply.

Frequent itemsets are mined Apriori-style with sparse matrix products instead of FP-growth's tree:
with itemsets capped at three categories, co-occurrence counts for all pairs are one product
(baskets x categories)^T (baskets x categories), and for all triples one more product of the
frequent-pair indicator columns with the category matrix. That is exact, needs no per-basket Python
loop and stays fast for millions of baskets. A basket is an order.

Rules have a single consequent category (that is what an offer is): {A} -> B and {A, B} -> C.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift", "count"]
OFFER_COLUMNS = ["customer_id", "rank", "category", "support", "confidence", "lift"]


def _basket_matrix(orders: pd.DataFrame) -> tuple[sparse.csr_matrix, np.ndarray]:
    pairs = orders[["order_id", "category"]].dropna().drop_duplicates()
    baskets, basket_codes = np.unique(pairs["order_id"].to_numpy(dtype=str), return_inverse=True)
    categories, category_codes = np.unique(pairs["category"].to_numpy(dtype=str), return_inverse=True)
    data = np.ones(len(pairs), dtype=np.int32)
    matrix = sparse.csr_matrix((data, (basket_codes, category_codes)), shape=(len(baskets), len(categories)))
    return matrix, categories


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
    return pairs.groupby("customer_id")["category"].agg(frozenset).rename("categories")


def next_best_offers(
    rules: pd.DataFrame, customer_categories: pd.Series, top_n: int = 3, *, chunk_size: int = 100_000
) -> pd.DataFrame:
    """Up to `top_n` categories per customer that rules predict and the customer has not bought.

    A rule applies when the customer owns its whole antecedent. For each category the strongest
    applicable rule counts; offers rank by confidence, then lift, then name. Customers are processed
    in chunks so a million customers do not need one giant intermediate frame.
    """
    if rules.empty or customer_categories.empty:
        return pd.DataFrame(columns=OFFER_COLUMNS)
    antecedents = rules["antecedent"].map(tuple)
    sized = rules.assign(
        first=antecedents.str[0], second=antecedents.map(lambda a: a[1] if len(a) > 1 else None)
    )
    single = sized[sized["second"].isna()].drop(columns=["second", "antecedent"])
    double = sized[sized["second"].notna()].drop(columns=["antecedent"])
    owned_all = (
        customer_categories.rename("category").rename_axis("customer_id").explode().dropna().reset_index()
    )
    owned_all["customer_id"] = owned_all["customer_id"].astype("str")

    ids = owned_all["customer_id"].unique()
    offers: list[pd.DataFrame] = []
    for start in range(0, len(ids), chunk_size):
        owned = owned_all[owned_all["customer_id"].isin(ids[start : start + chunk_size])]
        candidates = [
            owned.merge(single, left_on="category", right_on="first").drop(columns=["category", "first"])
        ]
        if not double.empty:
            both = owned.merge(double, left_on="category", right_on="first").drop(
                columns=["category", "first"]
            )
            has_second = owned.rename(columns={"category": "second"})
            candidates.append(both.merge(has_second, on=["customer_id", "second"]).drop(columns="second"))
        chunk = pd.concat(candidates, ignore_index=True).rename(columns={"consequent": "category"})
        bought = owned.assign(_bought=True)
        chunk = chunk.merge(bought, on=["customer_id", "category"], how="left")
        chunk = chunk[chunk["_bought"].isna()].drop(columns="_bought")
        chunk = chunk.sort_values(
            ["customer_id", "confidence", "lift", "category"],
            ascending=[True, False, False, True],
            kind="stable",
        ).drop_duplicates(["customer_id", "category"])
        chunk["rank"] = chunk.groupby("customer_id").cumcount() + 1
        offers.append(chunk[chunk["rank"] <= top_n])
    result = pd.concat(offers, ignore_index=True) if offers else pd.DataFrame(columns=OFFER_COLUMNS)
    return result[OFFER_COLUMNS].reset_index(drop=True)
