"""Clusters marketing can use (issue 14): k within the business range, tiny clusters merged, ids kept
between runs, bootstrap stability, names relative to the population's quantiles, every word translatable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.functional import Promise

from profiles.labels import ADJECTIVES, NOUNS, WHOLE_NAMES, cluster_label, cluster_name_parts
from profiles.pipeline import PipelineParams
from profiles.pipeline.cluster_names import (
    NAME_WORDS,
    NameCandidate,
    name_vocabulary,
    ranked_words,
    references,
    unique_names,
)
from profiles.pipeline.clusters import fit_clusters, match_previous, merge_small, parse_k_range
from profiles.pipeline.features import MODEL_FEATURES

_COUNTS = {"frequency", "distinct_categories", "interaction_count"} | {
    c for c in MODEL_FEATURES if c.startswith("events_")
}


def planted(groups: list[tuple[int, dict[str, float]]], *, seed: int = 0, start: int = 0) -> pd.DataFrame:
    """`count` customers around each centre (other features 0), 15% log-normal noise, counts whole."""
    rng = np.random.default_rng(seed)
    rows = []
    for count, centre in groups:
        for _ in range(count):
            row = dict.fromkeys(MODEL_FEATURES, 0.0) | {"tenure_days": 600.0}
            for key, value in centre.items():
                noisy = value * rng.lognormal(0.0, 0.15)
                row[key] = (
                    float(round(noisy)) if key in _COUNTS else min(noisy, 1.0) if "rate" in key else noisy
                )
            rows.append(row)
    index = pd.Index([f"c{i:05d}" for i in range(start, start + len(rows))], name="customer_id")
    return pd.DataFrame(rows, index=index)


ONE_OFF = {"recency_days": 400, "frequency": 1, "monetary_total": 30, "distinct_categories": 1}
BIG_SPENDERS = {
    "recency_days": 10,
    "frequency": 15,
    "monetary_total": 3000,
    "distinct_categories": 6,
    "events_app_open": 80,
}
BROWSERS = {
    "recency_days": 60,
    "frequency": 4,
    "monetary_total": 300,
    "distinct_categories": 2,
    "events_page_view": 100,
    "events_search": 40,
}
COUPONS = {
    "recency_days": 30,
    "frequency": 6,
    "monetary_total": 200,
    "distinct_categories": 3,
    "events_coupon_use": 12,
    "campaign_response_rate": 0.8,
}
TOUCHED = {
    "recency_days": 120,
    "frequency": 3,
    "monetary_total": 800,
    "distinct_categories": 2,
    "interaction_count": 20,
}
FIVE = [(600, ONE_OFF), (500, BIG_SPENDERS), (400, BROWSERS), (300, COUPONS), (200, TOUCHED)]
# 20 of 2,020 customers (1%): far from everyone, nearest to the big spenders.
WHALES = {
    "recency_days": 5,
    "frequency": 40,
    "monetary_total": 20000,
    "distinct_categories": 10,
    "events_add_to_cart": 300,
}


@pytest.fixture(scope="module")
def five() -> tuple[pd.DataFrame, pd.Series, object]:
    features = planted(FIVE)
    labels, model = fit_clusters(features)
    return features, labels, model


def _groups(labels: pd.Series, sizes: list[int]) -> list[set[int]]:
    edges = np.cumsum([0, *sizes])
    return [set(labels.iloc[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)]


# --- k and merging ----------------------------------------------------------------------------------------


def test_five_planted_groups_give_k_5_within_the_default_range_4_to_8(five) -> None:
    _features, labels, model = five
    assert PipelineParams().k_range == (4, 8)
    assert model.report["k"] == 5 and model.report["k_chosen"] == 5 and model.report["k_range"] == [4, 8]
    assert model.report["silhouette"] > 0.8 and model.report["merged"] == 0
    groups = _groups(labels, [n for n, _ in FIVE])
    # Each planted group is one cluster, numbered by size: the 600 are #0 ... the 200 are #4.
    assert groups == [{0}, {1}, {2}, {3}, {4}]
    assert [info.size for info in model.infos] == [600, 500, 400, 300, 200]


def test_a_planted_one_percent_group_is_merged_into_its_nearest_cluster() -> None:
    features = planted([*FIVE, (20, WHALES)], seed=1)
    labels, model = fit_clusters(features)
    # Silhouette wants the whales as a sixth cluster; at 1% of the customers they are merged.
    assert model.report["k_chosen"] == 6 and model.report["merged"] == 1 and model.report["k"] == 5
    assert model.report["min_share"] == 0.02
    assert set(labels.iloc[-20:]) == {labels.iloc[600]}  # with the big spenders
    assert [info.size for info in model.infos] == [600, 520, 400, 300, 200]
    assert sorted(labels.unique()) == [0, 1, 2, 3, 4]


def test_merge_small_merges_under_the_minimum_share_into_the_nearest_centroid_and_numbers_by_size() -> None:
    # 1-D: 50 rows at 0, 49 at 10, one at 9 (1% < 2%): the one joins the 10s (distance 1, not 9).
    z = np.array([[0.0]] * 50 + [[10.0]] * 49 + [[9.0]])
    labels = np.array([0] * 50 + [1] * 49 + [2])
    label_map, merged = merge_small(labels, z, np.array([[0.0], [10.0], [9.0]]), 0.02)
    assert merged == 1
    # Both survivors hold 50: the tie goes to the lower k-means label.
    assert label_map.tolist() == [0, 1, 1]
    label_map, merged = merge_small(labels, z, np.array([[0.0], [10.0], [9.0]]), 0.0)
    assert merged == 0 and label_map.tolist() == [0, 1, 2]
    # Smallest first, then again: at a 4% floor the one row joins the two at 5 (3 rows, still under),
    # and those three join the 97.
    labels = np.array([0] * 97 + [1] * 2 + [2])
    z = np.array([[0.0]] * 97 + [[5.0]] * 2 + [[6.0]])
    label_map, merged = merge_small(labels, z, np.array([[0.0], [5.0], [6.0]]), 0.04)
    assert merged == 2 and label_map.tolist() == [0, 0, 0]
    label_map, merged = merge_small(labels, z, np.array([[0.0], [5.0], [6.0]]), 0.03)
    assert merged == 1 and label_map.tolist() == [0, 1, 1]


def test_fewer_distinct_customers_than_the_smallest_k_fall_back_to_fewer_clusters_with_a_warning() -> None:
    rows = [ONE_OFF, BIG_SPENDERS, BROWSERS]  # ten customers exactly alike of each: three distinct points
    features = pd.DataFrame(
        [dict.fromkeys(MODEL_FEATURES, 0.0) | rows[i % 3] for i in range(30)],
        index=pd.Index([f"c{i}" for i in range(30)], name="customer_id"),
    )
    labels, model = fit_clusters(features, k_range=(4, 8))
    assert model.report["k"] == 3 and labels.nunique() == 3
    assert any("fewer than the smallest k (4)" in warning for warning in model.warnings)
    labels, model = fit_clusters(features.iloc[[0] * 5].set_axis(features.index[:5]))
    assert model.report["k"] == 1 and labels.tolist() == [0] * 5
    assert any("everyone is in one cluster" in warning for warning in model.warnings)


# --- Stability --------------------------------------------------------------------------------------------


def test_match_previous_keeps_ids_by_centroid_and_keeps_them_contiguous() -> None:
    new = np.array([[0.0], [10.0], [20.0]])
    ids, kept = match_previous(new, [2, 0, 1], np.array([[0.4], [9.5], [21.0]]))
    assert ids.tolist() == [2, 0, 1] and kept.all()
    # k shrank from 3 to 2: the cluster at 20 was #2, which is no id of 2 clusters: it takes the free 1.
    ids, kept = match_previous(np.array([[20.0], [0.0]]), [0, 1, 2], np.array([[0.0], [10.0], [20.0]]))
    assert ids.tolist() == [1, 0] and kept.tolist() == [False, True]
    # k grew from 2 to 3: the new cluster at 10 takes the lowest free id.
    ids, kept = match_previous(new, [1, 0], np.array([[20.0], [0.0]]))
    assert ids.tolist() == [0, 2, 1] and kept.tolist() == [True, False, True]


def test_refitting_with_0_5_percent_new_customers_keeps_the_others_cluster_ids() -> None:
    # Two groups of nearly equal size: the new customers make the second one the larger, which on its own
    # would swap their size-ordered ids. The previous run's centroids keep them.
    groups = [(500, ONE_OFF), (497, BIG_SPENDERS), (400, BROWSERS), (300, COUPONS), (300, TOUCHED)]
    features = planted(groups)
    first, model = fit_clusters(features)
    newcomers = planted([(10, BIG_SPENDERS)], seed=9, start=90_000)  # 10 / 1,997 = 0.5%
    grown = pd.concat([features, newcomers])
    again, relabelled = fit_clusters(grown, previous=model, random_state=1)
    moved = float((again.loc[features.index] != first).mean())
    assert moved < 0.05
    assert relabelled.report["matched_previous"] == 5
    assert [info.name for info in relabelled.infos] == [info.name for info in model.infos]
    fresh, _model = fit_clusters(grown, random_state=1)
    assert float((fresh.loc[features.index] != first).mean()) > 0.4  # what the relabelling prevents


def test_bootstrap_ari_is_near_1_on_well_separated_groups_and_low_on_noise(five) -> None:
    _features, _labels, model = five
    assert len(model.report["ari_bootstrap_each"]) == 5
    assert model.report["ari_bootstrap"] > 0.95
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(
        {column: rng.lognormal(2.0, 1.0, 2000) for column in MODEL_FEATURES},
        index=pd.Index([f"n{i}" for i in range(2000)], name="customer_id"),
    ).assign(campaign_response_rate=rng.uniform(0.0, 1.0, 2000))
    _noise_labels, noisy = fit_clusters(noise)
    assert noisy.report["ari_bootstrap"] < 0.6
    assert noisy.report["silhouette"] < 0.2


# --- Names ------------------------------------------------------------------------------------------------


def _reference(**values: list[float]) -> dict[str, np.ndarray]:
    return {feature: np.sort(np.asarray(v, dtype=np.float64)) for feature, v in values.items()}


def test_a_feature_earns_its_word_only_in_the_outer_quarter_of_the_population() -> None:
    spend = _reference(monetary_total=list(range(100)))  # 0..99
    words = lambda median: [c.word for c in ranked_words({"monetary_total": median}, spend, bought=True)]  # noqa: E731
    assert words(40.0) == []  # below the median: never "high-spend"
    assert words(74.0) == []  # 74 customers below it: not yet the top quarter
    assert words(75.0) == ["high-spend"]  # 75 of 100 below it
    assert words(20.0) == ["low-spend"]  # 79 of 100 above it
    assert words(0.0) == ["non-buying"]  # exactly nothing: says so


def test_purchase_words_compare_with_buyers_so_one_order_is_one_off_not_frequent() -> None:
    # 80% leads who never ordered are left out of the reference: 1 order is the bottom of the buyers.
    frequency = [0.0] * 80 + [1.0] * 2 + [3.0] * 18
    reference = references(pd.DataFrame({"frequency": frequency}))
    assert len(reference["frequency"]) == 20
    ranked = ranked_words({"frequency": 1.0}, reference, bought=True)
    assert [c.word for c in ranked] == ["one-off"] and ranked[0].depth == 0.9
    assert [c.word for c in ranked_words({"frequency": 0.0}, reference, bought=False)] == ["non-buying"]
    assert [c.word for c in ranked_words({"frequency": 3.0}, reference, bought=True)] == []


def test_recency_words_need_a_purchase_and_the_two_deepest_tails_name_the_cluster() -> None:
    reference = _reference(
        recency_days=list(range(100)),
        monetary_total=list(range(100)),
        events_app_open=[0.0] * 90 + [5.0] * 10,
    )
    medians = {"recency_days": 95.0, "monetary_total": 80.0, "events_app_open": 5.0}
    ranked = ranked_words(medians, reference, bought=True)
    assert [(c.word, c.depth) for c in ranked] == [("dormant", 0.95), ("app users", 0.9), ("high-spend", 0.8)]
    assert unique_names([ranked]) == [("dormant app users", 2)]
    assert [c.word for c in ranked_words(medians, reference, bought=False)] == ["app users", "high-spend"]


def test_names_are_unique_per_run_by_the_next_word_then_a_number() -> None:
    def candidates(*words: str) -> list[NameCandidate]:
        features = {"dormant": "recency_days", "one-off": "frequency", "low-spend": "monetary_total"}
        features |= {"high-touch": "interaction_count", "coupon users": "events_coupon_use"}
        return [NameCandidate(features[word], word, 0.9) for word in words]

    names = unique_names(
        [
            candidates("dormant", "one-off", "low-spend"),
            candidates("dormant", "one-off", "coupon users"),
            candidates("high-touch"),
            candidates("high-touch"),
            candidates(),
        ]
    )
    assert names == [
        ("dormant one-off low-spend customers", 3),
        ("dormant one-off coupon users", 3),
        ("high-touch customers", 1),
        ("high-touch customers (2)", 1),
        ("average customers", 0),
    ]


def test_planted_clusters_are_named_relative_to_the_population_and_uniquely(five) -> None:
    _features, _labels, model = five
    names = [info.name for info in model.infos]
    assert names == [
        "dormant low-spend customers",
        "recently active high-spend customers",
        "web browsers and search users",
        "campaign-responsive coupon users",
        "high-touch customers",
    ]
    assert len(set(names)) == len(names)
    for info in model.infos:
        # A cluster whose median spend is below the buyers' median is never "high-spend"; one whose median
        # is beyond three quarters of them is called so when spend is among its two deepest tails.
        if info.ranks["monetary_total"] < 0.5:
            assert "high-spend" not in info.name
    assert model.infos[1].ranks["monetary_total"] >= 0.75


# --- Settings ---------------------------------------------------------------------------------------------


def test_the_k_range_setting_is_parsed_and_a_bad_one_is_refused_clearly(settings) -> None:
    from profiles.services.rebuild import pipeline_params

    assert (
        parse_k_range("4,8") == (4, 8)
        and parse_k_range([5, 6]) == (5, 6)
        and parse_k_range(" 3 , 3") == (3, 3)
    )
    settings.PROFILES_PIPELINE_PARAMS = {}
    settings.PROFILES_CLUSTER_K_RANGE = "4,8"
    assert pipeline_params().k_range == (4, 8)
    settings.PROFILES_CLUSTER_K_RANGE = "5,7"
    settings.PROFILES_CLUSTER_MIN_SHARE = 0.05
    params = pipeline_params()
    assert params.k_range == (5, 7) and params.cluster_min_share == 0.05
    for bad, says in (
        ("8,4", "smallest k <= largest k"),
        ("4", "exactly two"),
        ("1,5", "2 <="),
        ("a,b", "whole"),
    ):
        settings.PROFILES_CLUSTER_K_RANGE = bad
        with pytest.raises(ImproperlyConfigured, match="PROFILES_CLUSTER_K_RANGE") as error:
            pipeline_params()
        assert says in str(error.value)
    settings.PROFILES_CLUSTER_K_RANGE = "4,8"
    settings.PROFILES_CLUSTER_MIN_SHARE = 0.6
    with pytest.raises(ImproperlyConfigured, match="PROFILES_CLUSTER_MIN_SHARE"):
        pipeline_params()


# --- Translation ------------------------------------------------------------------------------------------


def test_every_word_a_name_can_use_has_a_translatable_entry() -> None:
    adjectives, nouns = name_vocabulary()
    assert adjectives <= set(ADJECTIVES) and nouns <= set(NOUNS)
    assert {"infrequent", "non-buying", "one-off", "high-spend"} <= adjectives
    for entry in [*ADJECTIVES.values(), *NOUNS.values(), *WHOLE_NAMES.values()]:
        assert isinstance(entry, Promise)  # gettext_lazy: translated when shown
    assert set(WHOLE_NAMES) == {"average customers", "all customers"}
    # Every rule says why it is there.
    assert all(rule.reason for rule in NAME_WORDS)


def test_cluster_label_parses_every_name_the_pipeline_makes(five) -> None:
    _features, _labels, model = five
    made = [info.name for info in model.infos] + ["non-buying infrequent customers (2)", "all customers"]
    for name in made:
        parsed = cluster_name_parts(name)
        assert parsed is not None, name
        with translation.override("en"):
            assert cluster_label(name) == name
    for info in model.infos:
        adjectives, nouns, _suffix = cluster_name_parts(info.name)
        assert set(info.words) == set(adjectives) | ({*nouns} - {"customers"}), info.name


# --- The rebuild service ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rebuild_matches_the_active_runs_clusters_and_an_unreadable_previous_file_is_no_failure(history):
    from profiles.models import CustomerProfile, ProfileRun
    from profiles.services import rebuild, storage

    def clusters(run: ProfileRun) -> dict:
        return dict(CustomerProfile.objects.filter(run=run).values_list("customer_id", "cluster"))

    first = rebuild.profile_rebuild_sync()
    report = first.metrics["clusters"]
    assert {"k", "silhouette", "k_range", "merged", "min_share", "ari_bootstrap"} <= set(report)
    assert report["k"] >= 2 and report["matched_previous"] is None
    second = rebuild.profile_rebuild_sync()
    assert second.metrics["clusters"]["matched_previous"] == report["k"]
    assert clusters(second) == clusters(first)
    storage.models_path(second.pk).write_bytes(b"not a pickle")
    third = rebuild.profile_rebuild_sync()
    assert third.status == ProfileRun.Status.SUCCEEDED and third.is_active
    assert third.metrics["clusters"]["matched_previous"] is None
    storage.remove_models(third.pk)
    fourth = rebuild.profile_rebuild_sync()
    assert (
        fourth.status == ProfileRun.Status.SUCCEEDED
        and fourth.metrics["clusters"]["matched_previous"] is None
    )
