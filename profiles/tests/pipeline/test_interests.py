"""Interests and habits: top categories and search terms, preferred channel and time, static facts."""

from __future__ import annotations

from datetime import date

import pandas as pd

from profiles.pipeline.interests import (
    as_lists,
    preferred_channel,
    preferred_times,
    static_profile,
    top_categories,
    top_search_terms,
)

NO_ROWS = pd.DataFrame()


def test_top_categories_rank_by_spend_or_by_count() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "order_id": ["1", "2", "3", "4", "5"],
            "ordered_at": "2024-01-01",
            "category": ["tea", "tea", "tea", "kettle", "books"],
            "amount": [5.0, 5.0, 5.0, 80.0, 10.0],
        }
    )
    by_spend = top_categories(orders, n=1)
    assert by_spend[["customer_id", "category"]].values.tolist() == [["a", "kettle"], ["b", "books"]]
    by_count = top_categories(orders, n=2, by="count")
    assert as_lists(by_count, "category").to_dict() == {"a": ["tea", "kettle"], "b": ["books"]}
    assert by_count.loc[0, "spend"] == 15.0 and by_count.loc[0, "count"] == 3


def test_top_search_terms_fold_case_and_spaces_and_ignore_other_events() -> None:
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "a"],
            "event_type": ["search", "search", "search", "page_view", "search"],
            "occurred_at": "2024-01-01",
            "properties": [
                {"query": "Green  Tea "},
                {"query": "green tea"},
                {"query": "kettle"},
                {"query": "x"},
                None,
            ],
        }
    )
    terms = top_search_terms(events, n=5)
    assert terms[["term", "count", "rank"]].values.tolist() == [["green tea", 2, 1], ["kettle", 1, 2]]


def test_preferred_channel_counts_events_interactions_and_orders_together() -> None:
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "event_type": "page_view",
            "occurred_at": "2024-01-01",
            "channel": ["app", "app", "web"],
        }
    )
    interactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "occurred_at": "2024-01-01",
            "kind": ["call", "call", "call", "visit"],
            "channel": [None, None, None, "Store"],
        }
    )
    channel = preferred_channel(events, interactions)
    # a: three calls (kind stands in for the missing channel) beat two app events; b: a tie goes to "store".
    assert channel.to_dict() == {"a": "call", "b": "store"}


def test_preferred_times_use_the_local_timezone_and_break_ties_towards_the_earlier_value() -> None:
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "event_type": "app_open",
            # 20:30 UTC on a Sunday is 04:30 on Monday in Shanghai.
            "occurred_at": pd.to_datetime(
                ["2024-06-02 20:30", "2024-06-03 20:10", "2024-06-05 09:00"], utc=True
            ),
        }
    )
    local = preferred_times(events, timezone="Asia/Shanghai")
    assert local.loc["a"].tolist() == [4, 0]
    utc = preferred_times(events)
    assert utc.loc["a"].tolist() == [20, 0]
    assert preferred_times(NO_ROWS).empty


def test_static_profile_derives_age_band_gender_and_region() -> None:
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "birth_date": ["1990-06-16", "2008-06-15", None, "1850-01-01"],
            "gender": ["F", "男", None, "Non-binary"],
            "province": ["Zhejiang", "", None, None],
            "city": ["Hangzhou", "Beijing", None, None],
        }
    )
    profile = static_profile(customers, as_of=date(2024, 6, 15))  # the whole of 2024-06-15
    assert profile.loc["a", "age"] == 33 and profile.loc["a", "age_band"] == "25-34"
    assert profile.loc["b", "age"] == 16 and profile.loc["b", "age_band"] == "under 18"
    # 01:00 on 06-15 in Shanghai is still 06-14 in UTC: the birthday counts on the server's day.
    moment = pd.Timestamp("2024-06-15T01:00:00+08:00")
    assert static_profile(customers, as_of=moment, timezone="Asia/Shanghai").loc["b", "age"] == 16
    assert static_profile(customers, as_of=moment).loc["b", "age"] == 15
    assert pd.isna(profile.loc["c", "age"]) and pd.isna(profile.loc["d", "age_band"])
    assert profile["gender"].tolist() == ["female", "male", "unknown", "other"]
    assert profile["region"].tolist()[:2] == ["Zhejiang", "Beijing"]


def test_interest_functions_accept_empty_inputs() -> None:
    assert top_categories(NO_ROWS).empty
    assert top_search_terms(NO_ROWS).empty
    assert preferred_channel(NO_ROWS, NO_ROWS).empty
    assert static_profile(NO_ROWS, as_of="2024-01-01").empty
