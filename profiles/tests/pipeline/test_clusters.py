"""Clusters: k by silhouette, names from centroids, tiny inputs, reuse of a fitted model."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from profiles.pipeline.clusters import _name, assign_clusters, cluster_customers, fit_clusters
from profiles.pipeline.features import MODEL_FEATURES


def _features(groups: list[tuple[int, dict[str, float]]], seed: int = 0) -> pd.DataFrame:
    """`count` customers around each centre (unlisted features 0), with a little noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for count, centre in groups:
        for _ in range(count):
            row = dict.fromkeys(MODEL_FEATURES, 0.0)
            row.update({k: max(0.0, v * rng.uniform(0.9, 1.1)) for k, v in centre.items()})
            rows.append(row)
    index = pd.Index([f"c{i:04d}" for i in range(len(rows))], name="customer_id")
    return pd.DataFrame(rows, index=index)


DORMANT = {"recency_days": 400.0, "frequency": 1.0, "monetary_total": 20.0, "tenure_days": 500.0}
APP_FANS = {
    "recency_days": 5.0,
    "frequency": 12.0,
    "monetary_total": 2000.0,
    "events_app_open": 60.0,
    "tenure_days": 500.0,
}


def test_cluster_customers_finds_the_planted_groups_and_names_them_from_their_centroids() -> None:
    features = _features([(150, DORMANT), (50, APP_FANS)])
    labels, infos = cluster_customers(features, k_range=(2, 5))
    assert len(infos) == 2 and infos[0].k == 2 and infos[0].silhouette > 0.5
    assert labels.iloc[:150].nunique() == 1 and labels.iloc[150:].nunique() == 1
    names = {info.cluster: info.name for info in infos}
    assert names[labels.iloc[0]] == "dormant one-off customers"
    assert "app users" in names[labels.iloc[-1]]
    sizes = {info.cluster: info.size for info in infos}
    assert sizes[labels.iloc[0]] == 150
    fans = next(info for info in infos if info.cluster == labels.iloc[-1])
    assert fans.centroid["frequency"] > 10 and fans.z_scores["events_app_open"] > 0.5


def test_cluster_customers_is_deterministic_for_a_given_random_state() -> None:
    features = _features([(100, DORMANT), (60, APP_FANS), (40, {"interaction_count": 9.0})], seed=4)
    first, first_infos = cluster_customers(features, random_state=7)
    second, second_infos = cluster_customers(features, random_state=7)
    pd.testing.assert_series_equal(first, second)
    assert [i.name for i in first_infos] == [i.name for i in second_infos]


def test_cluster_customers_puts_everyone_in_one_cluster_when_there_are_too_few() -> None:
    for n in (1, 2):
        labels, infos = cluster_customers(_features([(n, DORMANT)]))
        assert labels.tolist() == [0] * n
        assert len(infos) == 1 and infos[0].name == "all customers" and infos[0].size == n
    identical = pd.DataFrame([dict.fromkeys(MODEL_FEATURES, 1.0)] * 5)
    labels, infos = cluster_customers(identical)
    assert labels.tolist() == [0] * 5 and len(infos) == 1


def test_cluster_customers_of_no_customers_returns_nothing() -> None:
    labels, infos = cluster_customers(_features([]))
    assert labels.empty and infos == []


def test_assign_clusters_places_a_new_customer_with_the_cluster_it_resembles() -> None:
    features = _features([(150, DORMANT), (50, APP_FANS)])
    labels, model = fit_clusters(features, k_range=(2, 4))
    restored = pickle.loads(pickle.dumps(model))
    newcomer = _features([(1, APP_FANS)], seed=99).set_axis(pd.Index(["new"], name="customer_id"))
    assert assign_clusters(restored, newcomer)["new"] == labels.iloc[-1]
    pd.testing.assert_series_equal(assign_clusters(restored, features), labels)


def test_cluster_names_use_at_most_two_distinctive_features_and_fall_back_to_average() -> None:
    assert (
        _name({"monetary_total": 1.5, "frequency": 1.2, "events_search": 0.9})
        == "frequent high-spend customers"
    )
    assert _name({"events_coupon_use": 2.0, "recency_days": -1.0}) == "recently active coupon users"
    assert _name({"events_search": 1.0, "events_app_open": 0.8}) == "app users and search users"
    assert _name({"frequency": 0.3, "monetary_total": -0.4}) == "average customers"
