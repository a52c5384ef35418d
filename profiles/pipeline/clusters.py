"""Behavioural clusters marketing can use: k by silhouette within a business range, no tiny clusters,
ids that stay put between runs, stability measured, names relative to the population.

- **Features**: CLUSTER_FEATURES, counts and money log1p-transformed before standardising so a few whales
  do not become clusters of their own.
- **k**: MiniBatchKMeans for each k in ``k_range`` (default 4 to 8, settings.PROFILES_CLUSTER_K_RANGE) on a
  sample; the k with the best silhouette wins. With fewer distinct customers than the smallest k the range
  drops to 2 (or everyone is one cluster), with a warning.
- **Merging**: a cluster holding less than ``min_share`` of the customers (default 2%) is merged into the
  nearest remaining centroid, smallest first, until none is under; clusters are then numbered 0..k-1 by size,
  largest first. The fitted k-means keeps its own centroids and ``ClusterModel.label_map`` sends each of
  them to its served cluster, so placing a customer later agrees with the run.
- **Stable ids**: given the previous run's model, the new clusters take the ids of the previous clusters
  whose centroids they sit nearest (Hungarian assignment on centroid distance in the new scaler's space),
  so the segments "#0 ..", "#1 .." keep meaning the same customers from run to run.
- **Stability**: the whole fit (k fixed) is repeated on bootstrap samples of the fitting sample and the
  adjusted Rand index of each refit's labels against the served labels is recorded (near 1: the clusters
  are real structure; far below: k-means is cutting noise).
- **Names** (cluster_names.py): from the cluster medians' places in the population's distribution, only
  the top or bottom quarter earning a word, e.g. "dormant low-spend customers"; unique within a run, and a
  cluster that kept its id keeps its words while it still earns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import (
    adjusted_rand_score,
    pairwise_distances,
    pairwise_distances_argmin,
    silhouette_score,
)
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .cluster_names import ranked_words, references, unique_names
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

# Marketing plans for a handful of segments: fewer than 4 says little more than RFM does, more than 8 is
# more audiences than a team briefs. settings.PROFILES_CLUSTER_K_RANGE changes it within K_LIMITS.
DEFAULT_K_RANGE = (4, 8)
# 2: silhouette needs two clusters; 20: each candidate k costs a k-means fit, and 20 audiences is a list
# nobody reads.
K_LIMITS = (2, 20)
# A cluster of under 2% of the customers is too small to brief a campaign for and too small for its
# centroid to be stable from one sample to the next.
DEFAULT_MIN_SHARE = 0.02
# Five refits tell real structure (ARI near 1) from k-means cutting noise (far below) at the cost of five
# k-means fits of the fitting sample.
DEFAULT_BOOTSTRAP_SAMPLES = 5
_SILHOUETTE_ROWS = 3_000


@dataclass(frozen=True)
class ClusterInfo:
    """One served cluster: its id, the k served, the silhouette of the served labels, size, centroid (mean
    features), name, and what the name was built from: per feature the cluster median and its rank among
    the customers it is compared with (share strictly below it, 0..1)."""

    cluster: int
    k: int
    silhouette: float | None
    size: int
    centroid: dict[str, float]
    z_scores: dict[str, float]
    name: str
    share: float | None = None
    medians: dict[str, float] | None = None
    ranks: dict[str, float] | None = None
    words: tuple[str, ...] = ()


@dataclass
class ClusterModel:
    """Fitted scaler + k-means, reusable to place a single customer later. Picklable.

    ``label_map[i]`` is the served cluster of k-means centroid i (merged and renumbered); None in models
    pickled before merging existed, where the k-means label is the cluster. ``report`` is the run's
    metrics["clusters"]; ``warnings`` what the run should say about the fit.
    """

    scaler: StandardScaler | None
    kmeans: MiniBatchKMeans | KMeans | None
    infos: list[ClusterInfo] = field(default_factory=list)
    columns: tuple[str, ...] = CLUSTER_FEATURES
    label_map: tuple[int, ...] | None = None
    report: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()


def parse_k_range(value: object) -> tuple[int, int]:
    """A k range from a setting: "4,8" or (4, 8); ValueError saying what is wrong.

    Two whole numbers, smallest first, both within K_LIMITS (inclusive)."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        parts = [str(item).strip() for item in items]  # type: ignore[attr-defined]
        numbers = [int(part) for part in parts]
    except (TypeError, ValueError):
        raise ValueError(
            f"give two whole numbers, the smallest and largest k, e.g. '4,8' (got {value!r})"
        ) from None
    if len(numbers) != 2:
        raise ValueError(f"give exactly two numbers, the smallest and largest k, e.g. '4,8' (got {value!r})")
    low, high = numbers
    if not K_LIMITS[0] <= low <= high <= K_LIMITS[1]:
        raise ValueError(f"need {K_LIMITS[0]} <= smallest k <= largest k <= {K_LIMITS[1]} (got {low},{high})")
    return low, high


def _transform(features: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    matrix = model_matrix(features).reindex(columns=list(columns)).clip(lower=0.0)
    for column in columns:
        if column not in _NO_LOG:
            matrix[column] = np.log1p(matrix[column])
    return matrix.to_numpy(dtype=np.float64)


# --- Fitting ----------------------------------------------------------------------------------------------


def _single_cluster(
    features: pd.DataFrame, columns: tuple[str, ...], report: dict[str, Any], warnings: list[str]
) -> tuple[pd.Series, ClusterModel]:
    labels = pd.Series(0, index=features.index, name="cluster", dtype="int64")
    if features.empty:
        model = ClusterModel(None, None, [], columns, report=report | {"k": 0}, warnings=tuple(warnings))
        return labels, model
    warnings.append("clusters skipped: too few distinct customers; everyone is in one cluster")
    centroid = model_matrix(features).reindex(columns=list(columns)).mean().to_dict()
    info = ClusterInfo(
        0, 1, None, len(features), centroid, dict.fromkeys(columns, 0.0), "all customers", share=1.0
    )
    model = ClusterModel(None, None, [info], columns, report=report | {"k": 1}, warnings=tuple(warnings))
    return labels, model


def fit_clusters(
    features: pd.DataFrame,
    *,
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    sample_size: int = 10_000,
    random_state: int = 0,
    columns: tuple[str, ...] = CLUSTER_FEATURES,
    min_share: float = DEFAULT_MIN_SHARE,
    bootstrap_samples: int = DEFAULT_BOOTSTRAP_SAMPLES,
    previous: ClusterModel | None = None,
) -> tuple[pd.Series, ClusterModel]:
    """Cluster labels per customer plus the fitted model (see the module docstring); `previous`, the last
    run's model, keeps cluster ids where the clusters are where they were."""
    k_min, k_max = parse_k_range(k_range)
    report: dict[str, Any] = {
        "k": 0,
        "k_chosen": None,
        "silhouette": None,
        "k_range": [k_min, k_max],
        "merged": 0,
        "min_share": float(min_share),
        "ari_bootstrap": None,
        "ari_bootstrap_each": [],
        "matched_previous": None,
    }
    warnings: list[str] = []
    x = _transform(features, columns)
    distinct = len(np.unique(x, axis=0)) if len(x) else 0
    # Silhouette needs 2 <= k <= n - 1, and k above the number of distinct points is meaningless.
    possible = min(k_max, len(x) - 1, distinct)
    if possible < 2:
        return _single_cluster(features, columns, report, warnings)
    low = k_min
    if possible < k_min:
        low = 2
        warnings.append(
            f"clusters: only {distinct} distinct customers, fewer than the smallest k ({k_min}); "
            f"k chosen from 2 to {possible}"
        )
    with threadpool_limits(limits=1):
        return _fit(
            features,
            x,
            (low, possible),
            _FitOptions(sample_size, random_state, columns, min_share, bootstrap_samples),
            previous,
            report,
            warnings,
        )


@dataclass(frozen=True)
class _FitOptions:
    sample_size: int
    random_state: int
    columns: tuple[str, ...]
    min_share: float
    bootstrap_samples: int


def _kmeans(k: int, random_state: int) -> MiniBatchKMeans:
    return MiniBatchKMeans(n_clusters=k, random_state=random_state, n_init=3, batch_size=2048)


def merge_small(
    labels: np.ndarray, z: np.ndarray, centers: np.ndarray, min_share: float
) -> tuple[np.ndarray, int]:
    """(label_map, merged): k-means label -> served cluster after merging every cluster under `min_share`
    of the rows into the nearest remaining centroid (smallest first, centroids recomputed after each
    merge), clusters numbered 0..k-1 by size, largest first (ties: lowest k-means label first)."""
    k = len(centers)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.zeros_like(centers)
    np.add.at(sums, labels, z)
    group = np.arange(k)
    alive = set(range(k))
    merged = 0
    total = max(float(counts.sum()), 1.0)
    while len(alive) > 1:
        smallest = min(alive, key=lambda g: (counts[g], g))
        if counts[smallest] / total >= min_share:
            break
        centroid = {g: sums[g] / counts[g] if counts[g] else centers[g] for g in alive}
        others = sorted(alive - {smallest})
        distances = [float(np.linalg.norm(centroid[smallest] - centroid[g])) for g in others]
        target = others[int(np.argmin(distances))]
        counts[target] += counts[smallest]
        sums[target] += sums[smallest]
        group[group == smallest] = target
        alive.discard(smallest)
        merged += 1
    order = sorted(alive, key=lambda g: (-counts[g], g))
    number = {g: i for i, g in enumerate(order)}
    return np.array([number[int(g)] for g in group], dtype=np.int64), merged


def _previous_centroids(
    previous: ClusterModel | None, scaler: StandardScaler, columns: tuple[str, ...]
) -> tuple[list[int], np.ndarray] | None:
    """The previous run's cluster ids and centroids in the new scaler's space, or None when there is no
    usable previous model (none, a single cluster, other features)."""
    if previous is None or previous.scaler is None or tuple(previous.columns) != tuple(columns):
        return None
    infos = [info for info in previous.infos if set(columns) <= set(info.z_scores)]
    if len(infos) < 2:
        return None
    old = np.array([[info.z_scores[c] for c in columns] for info in infos], dtype=np.float64)
    return [info.cluster for info in infos], scaler.transform(previous.scaler.inverse_transform(old))


def match_previous(
    centroids: np.ndarray, previous_ids: list[int], previous: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(new id, kept) per cluster (row of `centroids`, numbered by size): the id of the previous cluster it
    is assigned to (Hungarian assignment minimising the total centroid distance), and whether it kept that
    id. Ids stay 0..k-1: a cluster matched to an id >= k (k shrank), or to none (k grew), takes the lowest
    free id, larger clusters first."""
    k = len(centroids)
    rows, cols = linear_sum_assignment(pairwise_distances(centroids, previous))
    ids = np.full(k, -1, dtype=np.int64)
    for row, col in zip(rows, cols, strict=True):
        if previous_ids[col] < k:
            ids[row] = previous_ids[col]
    kept = ids >= 0
    free = iter(sorted(set(range(k)) - set(ids.tolist())))
    for row in range(k):
        if ids[row] < 0:
            ids[row] = next(free)
    return ids, kept


def _choose_k(
    sample: np.ndarray, candidates: tuple[int, int], random_state: int
) -> tuple[int, float, np.ndarray]:
    # Silhouette is quadratic in rows; one distance matrix of a sub-sample serves every candidate k.
    distances = pairwise_distances(sample[:_SILHOUETTE_ROWS])
    best_k, best_score = 0, -np.inf
    for k in range(candidates[0], candidates[1] + 1):
        trial = _kmeans(k, random_state).fit(sample)
        labels = trial.labels_[:_SILHOUETTE_ROWS]
        if len(np.unique(labels)) < 2:
            continue
        score = float(silhouette_score(distances, labels, metric="precomputed"))
        if score > best_score + 1e-12:
            best_k, best_score = k, score
    return best_k, best_score, distances


# A rebuild keeps the previous run's centroids as k-means' starting point (and their k) while that fit's
# silhouette is within this much of the best fresh one: on data without crisp groups several partitions
# score about the same, and a fresh fit picked another one each night (63% of customers changed cluster
# after 0.5% new customers, profiles/tests/pipeline/test_stability.py). A clearly better partition still wins.
WARM_START_SLACK = 0.05


def _warm_start(
    previous: ClusterModel | None,
    scaler: StandardScaler,
    columns: tuple[str, ...],
    candidates: tuple[int, int],
) -> np.ndarray | None:
    """The previous run's k-means centres in the new scaler's space, when usable as a starting point."""
    if previous is None or previous.kmeans is None or previous.scaler is None:
        return None
    if tuple(previous.columns) != tuple(columns):
        return None
    centres = previous.kmeans.cluster_centers_
    if not candidates[0] <= len(centres) <= candidates[1]:
        return None
    return scaler.transform(previous.scaler.inverse_transform(centres))


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float | None:
    head = labels[: len(distances)]
    if len(np.unique(head)) < 2:
        return None
    return float(silhouette_score(distances, head, metric="precomputed"))


def _bootstrap_ari(
    sample: np.ndarray, served: np.ndarray, k: int, options: _FitOptions, rng: np.random.Generator
) -> list[float]:
    """ARI of the served labels of the sample against the same fit (k fixed, merging included) redone on
    each of `bootstrap_samples` resamples (with replacement, sample-sized) and applied to the sample."""
    scores = []
    for b in range(options.bootstrap_samples):
        rows = rng.integers(0, len(sample), size=len(sample))
        refit = _kmeans(k, options.random_state + 1 + b).fit(sample[rows])
        raw = refit.predict(sample)
        label_map, _merged = merge_small(raw, sample, refit.cluster_centers_, options.min_share)
        scores.append(float(adjusted_rand_score(served, label_map[raw])))
    return scores


def _fit(
    features: pd.DataFrame,
    x: np.ndarray,
    candidates: tuple[int, int],
    options: _FitOptions,
    previous: ClusterModel | None,
    report: dict[str, Any],
    warnings: list[str],
) -> tuple[pd.Series, ClusterModel]:
    columns = options.columns
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    rng = np.random.default_rng(options.random_state)
    if len(z) > options.sample_size:
        picked = rng.choice(len(z), size=options.sample_size, replace=False)
    else:
        picked = np.arange(len(z))
    sample = z[picked]
    best_k, best_score, distances = _choose_k(sample, candidates, options.random_state)
    if best_k == 0:
        return _single_cluster(features, columns, report, warnings)
    kmeans = None
    start = _warm_start(previous, scaler, columns, candidates)
    if start is not None:
        score = _silhouette(distances, pairwise_distances_argmin(sample, start))
        if score is not None and score >= best_score - WARM_START_SLACK:
            best_k = len(start)
            # Last night's centres kept as they are (the customers re-assigned to the nearest): the same
            # data gives the same clusters on every backend, and new data moves only the customers whose
            # features moved. A fresh fit replaces them once it is clearly better (WARM_START_SLACK);
            # letting k-means move them instead wandered to another of the many partitions that score
            # alike (18-27% of the customers moved after 0.5% new ones). KMeans is fitted for its
            # predict() only; its centres are then set back to the kept ones.
            kmeans = KMeans(
                n_clusters=best_k, init=start, n_init=1, max_iter=1, random_state=options.random_state
            ).fit(z)
            kmeans.cluster_centers_ = np.array(start, dtype=kmeans.cluster_centers_.dtype)
        report["warm_start"] = kmeans is not None
    if kmeans is None:
        kmeans = _kmeans(best_k, options.random_state).fit(z)
    raw = kmeans.predict(z)
    label_map, merged = merge_small(raw, z, kmeans.cluster_centers_, options.min_share)
    k = int(label_map.max()) + 1
    labels = label_map[raw]
    sums = np.zeros((k, z.shape[1]))
    np.add.at(sums, labels, z)
    centroids = sums / np.bincount(labels, minlength=k)[:, None]
    matched = _previous_centroids(previous, scaler, columns)
    previous_words: dict[int, tuple[str, ...]] = {}
    if matched is not None and previous is not None:
        ids, kept = match_previous(centroids, *matched)
        label_map, labels = ids[label_map], ids[labels]
        centroids[ids] = centroids.copy()
        report["matched_previous"] = int(kept.sum())
        words = {info.cluster: info.words for info in previous.infos}
        previous_words = {int(i): words[int(i)] for i in ids[kept] if words.get(int(i))}
    served_sample = labels[picked]
    silhouette = None
    if k > 1:
        head = served_sample[:_SILHOUETTE_ROWS]
        if len(np.unique(head)) > 1:
            silhouette = float(silhouette_score(distances, head, metric="precomputed"))
    ari = _bootstrap_ari(sample, served_sample, best_k, options, rng) if k > 1 else []
    report.update(
        k=k,
        k_chosen=best_k,
        silhouette=silhouette,
        merged=merged,
        ari_bootstrap=float(np.mean(ari)) if ari else None,
        ari_bootstrap_each=ari,
    )
    infos = _describe(features, labels, centroids, k, silhouette, columns, previous_words)
    model = ClusterModel(
        scaler=scaler,
        kmeans=kmeans,
        infos=infos,
        columns=columns,
        label_map=tuple(int(v) for v in label_map),
        report=report,
        warnings=tuple(warnings),
    )
    return pd.Series(labels.astype("int64"), index=features.index, name="cluster"), model


def _describe(
    features: pd.DataFrame,
    labels: np.ndarray,
    centroids: np.ndarray,
    k: int,
    silhouette: float | None,
    columns: tuple[str, ...],
    previous_words: dict[int, tuple[str, ...]],
) -> list[ClusterInfo]:
    """The served clusters' descriptions and names. A cluster that kept a previous cluster's id keeps
    that cluster's words while it still earns every one of them: near-ties between equally deep tails
    then do not rename a segment from one run to the next."""
    raw = model_matrix(features).reindex(columns=list(columns))
    reference = references(raw)
    grouped = raw.groupby(labels)
    means, medians = grouped.mean(), grouped.median()
    sizes = np.bincount(labels, minlength=k)
    ranked, ranks = [], []
    for cluster in range(k):
        median = medians.loc[cluster].to_dict()
        bought = float(median.get("frequency", 1.0)) > 0
        z_centroid = dict(zip(columns, (float(v) for v in centroids[cluster]), strict=True))
        ranked.append(ranked_words(median, reference, bought=bought, z_scores=z_centroid))
        ranks.append(
            {
                feature: float(np.searchsorted(values, median[feature], side="left") / len(values))
                for feature, values in reference.items()
                if len(values)
            }
        )
    start = [2] * k
    for cluster, words in previous_words.items():
        earned = {candidate.word: candidate for candidate in ranked[cluster]}
        if all(word in earned for word in words):
            rest = [c for c in ranked[cluster] if c.word not in words]
            ranked[cluster] = [earned[word] for word in words] + rest
            start[cluster] = len(words)
    names = unique_names(ranked, words=start)
    return [
        ClusterInfo(
            cluster=cluster,
            k=k,
            silhouette=silhouette,
            size=int(sizes[cluster]),
            centroid={c: float(v) for c, v in means.loc[cluster].items()},
            z_scores=dict(zip(columns, (float(v) for v in centroids[cluster]), strict=True)),
            name=names[cluster][0],
            share=float(sizes[cluster] / len(labels)),
            medians={c: float(v) for c, v in medians.loc[cluster].items()},
            ranks=ranks[cluster],
            words=tuple(c.word for c in ranked[cluster][: names[cluster][1]]),
        )
        for cluster in range(k)
    ]


def cluster_customers(
    features: pd.DataFrame,
    *,
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    sample_size: int = 10_000,
    random_state: int = 0,
    min_share: float = DEFAULT_MIN_SHARE,
) -> tuple[pd.Series, list[ClusterInfo]]:
    """Cluster labels (index customer_id) and the clusters' descriptions; see fit_clusters."""
    labels, model = fit_clusters(
        features, k_range=k_range, sample_size=sample_size, random_state=random_state, min_share=min_share
    )
    return labels, model.infos


def assign_clusters(model: ClusterModel, features: pd.DataFrame) -> pd.Series:
    """Place customers into the clusters of an earlier fit (for refreshing one customer between runs)."""
    if model.kmeans is None or model.scaler is None:
        return pd.Series(0 if model.infos else -1, index=features.index, name="cluster", dtype="int64")
    z = model.scaler.transform(_transform(features, model.columns))
    with threadpool_limits(limits=1):
        labels = model.kmeans.predict(z).astype("int64")
    if model.label_map is not None:
        labels = np.asarray(model.label_map, dtype=np.int64)[labels]
    return pd.Series(labels, index=features.index, name="cluster")


def cluster_names(model: ClusterModel, labels: pd.Series) -> pd.Series:
    names = {info.cluster: info.name for info in model.infos}
    return labels.map(names).astype("str").rename("cluster_name")
