"""Interests and habits (top categories, search terms, channel, hour, weekday) and static master data.

Ranked lists come back in long form (customer_id, rank, value, ...) so that callers can keep the
top N, join them or fold them into a list per customer (`as_lists`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import (
    NS_PER_DAY,
    as_of_day,
    conform,
    extract_property,
    id_categories,
    id_codes,
    lists_per_customer,
    mode_per_customer,
    normalise_labels,
    pair_totals,
    share_customer_ids,
    top_n_per_customer,
    value_codes,
)

AGE_BANDS = (
    (0, "under 18"),
    (18, "18-24"),
    (25, "25-34"),
    (35, "35-44"),
    (45, "45-54"),
    (55, "55-64"),
    (65, "65+"),
)
_GENDERS = {
    "f": "female",
    "female": "female",
    "woman": "female",
    "女": "female",
    "m": "male",
    "male": "male",
    "man": "male",
    "男": "male",
    "other": "other",
    "x": "other",
    "non-binary": "other",
}


def _top(frame: pd.DataFrame, column: str, n: int, weight: str | None, by: str) -> pd.DataFrame:
    """Long frame customer_id, rank, <column>, count[, spend] of each customer's n top values."""
    data = frame[frame["customer_id"].notna() & frame[column].notna()]
    (data,) = share_customer_ids(data)
    values, uniques = value_codes(data[column])
    weights = data[weight].to_numpy(dtype=np.float64) if weight else None
    customers, value, counts, totals = pair_totals(id_codes(data), values, weights)
    rows, ranks = top_n_per_customer(customers, value, totals if by == "spend" else counts, n)
    result = pd.DataFrame(
        {
            "customer_id": pd.Series(id_categories(data).take(customers[rows]), dtype="str"),
            "rank": ranks,
            column: pd.Series(uniques.take(value[rows]), dtype="str"),
        }
    )
    if weight:
        result["spend"] = totals[rows]
    result["count"] = counts[rows].astype(np.int64)
    return result


def top_categories(orders: pd.DataFrame, *, n: int = 3, by: str = "spend") -> pd.DataFrame:
    """Each customer's n favourite categories by `spend` or by `count` of order lines.

    Columns: customer_id, rank, category, spend, count. Ties go to the alphabetically first category.
    """
    if by not in ("spend", "count"):
        raise ValueError("by must be 'spend' or 'count'")
    return _top(conform(orders, "orders"), "category", n, "amount", by)


def top_search_terms(events: pd.DataFrame, *, n: int = 5) -> pd.DataFrame:
    """Most frequent search queries (events of type `search`, property `query`), case and space folded.

    Columns: customer_id, rank, term, count.
    """
    data = conform(events, "events")
    searches = data[data["event_type"].eq("search") & data["customer_id"].notna()]
    terms = extract_property(searches["properties"], "query").astype("str")
    terms = terms.str.lower().str.split().str.join(" ")
    found = pd.DataFrame({"customer_id": searches["customer_id"], "term": terms.where(terms.str.len() > 0)})
    return _top(found, "term", n, None, "count")


def preferred_channel(
    events: pd.DataFrame, interactions: pd.DataFrame, orders: pd.DataFrame | None = None
) -> pd.Series:
    """The channel a customer used most across events, interactions (kind when no channel) and orders.

    Only interactions the customer started (inbound, or of unknown direction) count: an outbound call or
    a note says how staff reach the customer, not which channel the customer prefers.
    """
    events, interactions, orders = share_customer_ids(
        conform(events, "events"), conform(interactions, "interactions"), conform(orders, "orders")
    )
    staff_started = interactions["direction"].isin(["outbound", "internal"]).to_numpy(dtype=bool)
    interactions = interactions[~staff_started]
    used = pd.concat(
        [
            events[["customer_id", "channel"]],
            interactions[["customer_id"]].assign(
                channel=interactions["channel"].fillna(interactions["kind"])
            ),
            orders[["customer_id", "channel"]],
        ],
        ignore_index=True,
    )
    used["channel"] = normalise_labels(used["channel"])
    return mode_per_customer(used, "channel").rename("preferred_channel")


def preferred_times(
    events: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    *,
    timezone: str = "UTC",
) -> pd.DataFrame:
    """Most common local hour (0-23) and weekday (0 = Monday) of a customer's events and orders.

    Columns: preferred_hour, preferred_weekday (index customer_id). Ties go to the earlier hour/day.
    """
    events, orders = share_customer_ids(conform(events, "events"), conform(orders, "orders"))
    moments = pd.concat(
        [
            events[["customer_id", "occurred_at"]],
            orders[["customer_id", "ordered_at"]].rename(columns={"ordered_at": "occurred_at"}),
        ],
        ignore_index=True,
    ).dropna()
    local = moments["occurred_at"].dt.tz_convert(timezone)
    moments = moments.assign(hour=local.dt.hour, weekday=local.dt.day_of_week)
    result = pd.DataFrame(
        {
            "preferred_hour": mode_per_customer(moments, "hour"),
            "preferred_weekday": mode_per_customer(moments, "weekday"),
        }
    )
    return result.astype("Int64").rename_axis("customer_id")


def age_band(age: pd.Series) -> pd.Series:
    edges = [bound for bound, _ in AGE_BANDS] + [np.inf]
    labels = [label for _, label in AGE_BANDS]
    bands = pd.cut(age, bins=edges, labels=labels, right=False)
    return bands.astype("str").where(age.notna())


def static_profile(customers: pd.DataFrame, *, as_of: object, timezone: str = "UTC") -> pd.DataFrame:
    """Master-data facts: age, age_band, gender (female/male/other/unknown), province, city, region.

    Ages come from birth_date on the as-of day (`frames.as_of_day` of the exclusive cutoff `as_of`, in
    `timezone`); impossible ones (negative, over 120) are dropped. region is
    the province, or the city where the province is unknown.
    """
    day = as_of_day(as_of, timezone)
    cutoff = pd.Timestamp(day * NS_PER_DAY)  # the as-of date (a naive midnight): only its y/m/d are read
    data = conform(customers, "customers").dropna(subset=["customer_id"]).drop_duplicates("customer_id")
    born = data["birth_date"]
    had_birthday = (born.dt.month < cutoff.month) | (
        (born.dt.month == cutoff.month) & (born.dt.day <= cutoff.day)
    )
    age = (cutoff.year - born.dt.year - (~had_birthday).astype("int64")).astype("Float64")
    age = age.where((age >= 0) & (age <= 120))
    gender = data["gender"].str.strip().str.lower().map(_GENDERS).fillna("unknown")
    province = data["province"].str.strip().where(lambda s: s.str.len() > 0)
    city = data["city"].str.strip().where(lambda s: s.str.len() > 0)
    result = pd.DataFrame(
        {
            "age": age.astype("Int64"),
            "age_band": age_band(age.astype("float64")),
            "gender": gender.astype("str"),
            "province": province,
            "city": city,
            "region": province.fillna(city),
        }
    )
    return result.set_axis(pd.Index(data["customer_id"], name="customer_id"))


def as_lists(long: pd.DataFrame, value: str, *, index: pd.Index | None = None) -> pd.Series:
    """Fold a ranked long frame into one list per customer, in rank order ([] for customers of `index`
    without any row)."""
    return lists_per_customer(long["customer_id"], long["rank"], long[value], index).rename(value)
