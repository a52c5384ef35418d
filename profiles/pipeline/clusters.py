"""Behavioural clusters: standardised features, MiniBatchKMeans, k chosen by silhouette on a sample.

Counts and money are log1p-transformed before standardising so a few whales do not become clusters
of their own. Each cluster is named from its centroid's most distinctive standardised features,
e.g. "frequent high-spend app users" or "dormant low-spend": deterministic, so a re-run on the same
data gives the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import pairwise_distances, silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .features import EVENT_TYPES, model_matrix

CLUSTER_FEATURES = (
    "recency_days",
    "frequency",
    "monetary_total",
    "distinct_categories",
    *(f"events_{name}" for name in EVENT_TYPES),
    "interaction_count",
    "campaign_response_rate",
)
_NO_LOG = {"campaign_response_rate"}
# Word for a centroid above / below average. Plural nouns ("app users") end a name; a name made only of
# adjectives ends in "customers".
_WORDS: dict[str, tuple[str | None, str | None]] = {
    "recency_days": ("dormant", "recently active"),
    "frequency": ("frequent", "one-off"),
    "monetary_total": ("high-spend", "low-spend"),
    "distinct_categories": ("multi-category", "single-category"),
    "campaign_response_rate": ("campaign-responsive", None),
    "interaction_count": ("high-touch", None),
    "events_page_view": ("web browsers", None),
    "events_app_open": ("app users", None),
    "events_search": ("search users", None),
    "events_add_to_cart": ("cart builders", None),
    "events_coupon_use": ("coupon users", None),
}
_DISTINCT_Z = 0.5
_SILHOUETTE_ROWS = 3_000


@dataclass(frozen=True)
class ClusterInfo:
    """One cluster: its id, the k it came from, the run's silhouette, size, centroid and name."""

    cluster: int
    k: int
    silhouette: float | None
    size: int
    centroid: dict[str, float]
    z_scores: dict[str, float]
    name: str


@dataclass
class ClusterModel:
    """Fitted scaler + k-means, reusable to place a single customer later. Picklable."""

    scaler: StandardScaler | None
    kmeans: MiniBatchKMeans | None
    infos: list[ClusterInfo] = field(default_factory=list)
    columns: tuple[str, ...] = CLUSTER_FEATURES


def _transform(features: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    matrix = model_matrix(features).reindex(columns=list(columns)).clip(lower=0.0)
    for column in columns:
        if column not in _NO_LOG:
            matrix[column] = np.log1p(matrix[column])
    return matrix.to_numpy(dtype=np.float64)


def _name(z: dict[str, float]) -> str:
    """Words for the centroid's two most distinctive features (|z| >= 0.5), in _WORDS order."""
    ranked = sorted((column for column in z if abs(z[column]) >= _DISTINCT_Z), key=lambda c: (-abs(z[c]), c))
    chosen: list[str] = []
    for column in ranked:
        above, below = _WORDS.get(column, (None, None))
        if above if z[column] > 0 else below:
            chosen.append(column)
        if len(chosen) == 2:
            break
    if not chosen:
        return "average customers"
    # A fixed word order reads naturally ("dormant one-off", not "one-off dormant") whatever ranks first.
    order = list(_WORDS)
    words = [_WORDS[c][0] if z[c] > 0 else _WORDS[c][1] for c in sorted(chosen, key=order.index)]
    adjectives = [word for word in words if word and not word.endswith("s")]
    nouns = [word for word in words if word and word.endswith("s")]
    return " ".join([*adjectives, " and ".join(nouns) or "customers"])


def _single_cluster(features: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.Series, ClusterModel]:
    labels = pd.Series(0, index=features.index, name="cluster", dtype="int64")
    if features.empty:
        return labels, ClusterModel(scaler=None, kmeans=None, infos=[], columns=columns)
    centroid = model_matrix(features).reindex(columns=list(columns)).mean().to_dict()
    info = ClusterInfo(0, 1, None, len(features), centroid, dict.fromkeys(columns, 0.0), "all customers")
    return labels, ClusterModel(scaler=None, kmeans=None, infos=[info], columns=columns)


def fit_clusters(
    features: pd.DataFrame,
    *,
    k_range: tuple[int, int] = (2, 8),
    sample_size: int = 10_000,
    random_state: int = 0,
    columns: tuple[str, ...] = CLUSTER_FEATURES,
) -> tuple[pd.Series, ClusterModel]:
    """Cluster labels per customer plus the fitted model; k in k_range (inclusive) maximising silhouette."""
    x = _transform(features, columns)
    distinct = len(np.unique(x, axis=0)) if len(x) else 0
    # Silhouette needs 2 <= k <= n - 1, and k above the number of distinct points is meaningless.
    k_max = min(k_range[1], len(x) - 1, distinct)
    if k_max < max(k_range[0], 2):
        return _single_cluster(features, columns)
    with threadpool_limits(limits=1):
        return _fit(features, x, k_range, k_max, sample_size, random_state, columns)


def _fit(
    features: pd.DataFrame,
    x: np.ndarray,
    k_range: tuple[int, int],
    k_max: int,
    sample_size: int,
    random_state: int,
    columns: tuple[str, ...],
) -> tuple[pd.Series, ClusterModel]:
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    rng = np.random.default_rng(random_state)
    sample = z[rng.choice(len(z), size=sample_size, replace=False)] if len(z) > sample_size else z
    # Silhouette is quadratic in rows; one distance matrix of a sub-sample serves every candidate k.
    distances = pairwise_distances(sample[:_SILHOUETTE_ROWS])
    best_k, best_score = 0, -np.inf
    for k in range(max(k_range[0], 2), k_max + 1):
        trial = MiniBatchKMeans(n_clusters=k, random_state=random_state, n_init=3, batch_size=2048).fit(
            sample
        )
        labels = trial.labels_[:_SILHOUETTE_ROWS]
        if len(np.unique(labels)) < 2:
            continue
        score = float(silhouette_score(distances, labels, metric="precomputed"))
        if score > best_score + 1e-12:
            best_k, best_score = k, score
    if best_k == 0:
        return _single_cluster(features, columns)
    kmeans = MiniBatchKMeans(n_clusters=best_k, random_state=random_state, n_init=3, batch_size=2048).fit(z)
    labels = kmeans.predict(z)
    raw = model_matrix(features).reindex(columns=list(columns))
    infos: list[ClusterInfo] = []
    seen: dict[str, int] = {}
    for cluster in range(best_k):
        members = labels == cluster
        z_centroid = dict(zip(columns, (float(v) for v in kmeans.cluster_centers_[cluster]), strict=True))
        name = _name(z_centroid)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        infos.append(
            ClusterInfo(
                cluster=cluster,
                k=best_k,
                silhouette=best_score,
                size=int(members.sum()),
                centroid={c: float(v) for c, v in raw[members].mean().items()} if members.any() else {},
                z_scores=z_centroid,
                name=name,
            )
        )
    model = ClusterModel(scaler=scaler, kmeans=kmeans, infos=infos, columns=columns)
    return pd.Series(labels.astype("int64"), index=features.index, name="cluster"), model


def cluster_customers(
    features: pd.DataFrame,
    *,
    k_range: tuple[int, int] = (2, 8),
    sample_size: int = 10_000,
    random_state: int = 0,
) -> tuple[pd.Series, list[ClusterInfo]]:
    """Cluster labels (index customer_id) and the clusters' descriptions; see fit_clusters."""
    labels, model = fit_clusters(
        features, k_range=k_range, sample_size=sample_size, random_state=random_state
    )
    return labels, model.infos


def assign_clusters(model: ClusterModel, features: pd.DataFrame) -> pd.Series:
    """Place customers into the clusters of an earlier fit (for refreshing one customer between runs)."""
    if model.kmeans is None or model.scaler is None:
        return pd.Series(0 if model.infos else -1, index=features.index, name="cluster", dtype="int64")
    z = model.scaler.transform(_transform(features, model.columns))
    with threadpool_limits(limits=1):
        labels = model.kmeans.predict(z).astype("int64")
    return pd.Series(labels, index=features.index, name="cluster")


def cluster_names(model: ClusterModel, labels: pd.Series) -> pd.Series:
    names = {info.cluster: info.name for info in model.infos}
    return labels.map(names).astype("str").rename("cluster_name")
