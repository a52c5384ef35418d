"""Why a customer got their churn risk: per-customer top factors and the model's global importances.

A factor's effect is what-if arithmetic a salesperson can follow: the served probability with the
customer's own value of a feature minus the probability with that feature set to its typical value (the
population median, stored on the fitted model so a single-customer refresh explains exactly as the run
did). A positive effect means the customer's value raises the risk above what a typical value would give.

Vectorised: one prediction per feature over all rows (k + 1 predictions for k features), never one per
customer, so explaining a million customers costs about k + 1 scorings of them.

Global importances are permutation importances on the held-out snapshot: the drop of ROC AUC when one
feature's column is shuffled across customers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .calibration import roc_auc

Predict = Callable[[NDArray[np.float64]], NDArray[np.float64]]

# Factors that move the probability by less than this are left out: under a tenth of a percentage
# point they round away on the card and would only crowd out the factors that matter.
MIN_EFFECT = 0.001
TOP_FACTORS = 3
# Permutation importance needs the held-out ranking, not every row: past this many rows the AUC drop is
# stable to the third decimal and each extra row only costs time (one prediction per feature).
IMPORTANCE_MAX_ROWS = 50_000


def typical_values(inputs: pd.DataFrame) -> dict[str, float]:
    """Each column's median (0.0 for a column without values): the reference point of the factors."""
    medians = inputs.astype("float64").median()
    return {str(name): float(value) if np.isfinite(value) else 0.0 for name, value in medians.items()}


def factor_effects(
    predict: Predict, inputs: pd.DataFrame, typical: Mapping[str, float]
) -> NDArray[np.float64]:
    """(n rows, k columns) effects: predict(as is) - predict(with that column set to its typical value)."""
    matrix = inputs.to_numpy(dtype=np.float64, copy=True)
    effects = np.zeros(matrix.shape)
    if not len(matrix):
        return effects
    base = predict(matrix)
    for j, name in enumerate(inputs.columns):
        saved = matrix[:, j].copy()
        matrix[:, j] = typical[str(name)]
        effects[:, j] = base - predict(matrix)
        matrix[:, j] = saved
    return effects


def top_factors(
    inputs: pd.DataFrame,
    typical: Mapping[str, float],
    effects: NDArray[np.float64],
    *,
    top_n: int = TOP_FACTORS,
    min_effect: float = MIN_EFFECT,
) -> list[list[dict[str, Any]]]:
    """Per row the `top_n` factors by |effect| (at least `min_effect`), largest first, as contract dicts:
    {"feature", "value", "typical", "effect"} (effect rounded to 4 decimals)."""
    names = np.asarray([str(c) for c in inputs.columns], dtype=object)
    if not len(inputs) or not len(names):
        return [[] for _ in range(len(inputs))]
    take = min(top_n, len(names))
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :take]
    rows = np.arange(len(inputs))[:, None]
    chosen_effects = np.round(effects[rows, order], 4)
    # Inputs in days are stored as periods x days per period (471.00000000000006): 4 decimals show them.
    chosen_values = np.round(inputs.to_numpy(dtype=np.float64)[rows, order], 4)
    typical_row = np.asarray([typical[str(n)] for n in names], dtype=np.float64)
    chosen_typical = np.round(typical_row[order], 4)
    chosen_names = names[order]
    keep = np.abs(effects[rows, order]) >= min_effect
    # One flat pass over the kept factors, then cut into rows: a dict literal per factor is the only
    # per-item Python work (about 1 s per million factors).
    flat = [
        {"feature": f, "value": v, "typical": t, "effect": e}
        for f, v, t, e in zip(
            chosen_names[keep].tolist(),
            chosen_values[keep].tolist(),
            chosen_typical[keep].tolist(),
            chosen_effects[keep].tolist(),
            strict=True,
        )
    ]
    items = iter(flat)
    return [list(islice(items, count)) for count in keep.sum(axis=1).tolist()]


def permutation_importances(
    predict: Predict,
    inputs: pd.DataFrame,
    labels: NDArray[np.bool_],
    *,
    random_state: int = 0,
    max_rows: int = IMPORTANCE_MAX_ROWS,
) -> list[dict[str, Any]]:
    """[{"feature", "importance"}] descending: the held-out ROC AUC minus the AUC with that column shuffled.

    Empty when the labels hold one class only (no AUC to lose). At most `max_rows` rows, chosen at random.
    """
    rng = np.random.default_rng(random_state)
    matrix = inputs.to_numpy(dtype=np.float64, copy=True)
    y = np.asarray(labels, dtype=bool)
    if len(matrix) > max_rows:
        pick = rng.choice(len(matrix), size=max_rows, replace=False)
        matrix, y = matrix[pick], y[pick]
    base = roc_auc(y, predict(matrix)) if len(matrix) else None
    if base is None:
        return []
    result = []
    for j, name in enumerate(inputs.columns):
        saved = matrix[:, j].copy()
        matrix[:, j] = rng.permutation(saved)
        shuffled = roc_auc(y, predict(matrix))
        matrix[:, j] = saved
        result.append({"feature": str(name), "importance": round(base - float(shuffled or 0.5), 6)})
    return sorted(result, key=lambda row: row["importance"], reverse=True)
