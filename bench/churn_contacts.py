"""Churn AUC with and without the sessions log's contact features, on the data of DATABASE_URL (the demo).

    DATABASE_URL=postgres://... python -m bench.churn_contacts [--resamples 300]

Reads the rebuild's inputs as of now, builds the churn model's snapshots exactly as a rebuild does
(`fit_models`: two cutoffs a horizon apart, the later one held out), then fits on the earlier snapshot
and scores the held-out one three ways: purchase history plus contact features, purchase history only,
and the naive baseline (days since the last purchase). Twice: with every interaction, and with only the
demo's background contacts (the complaints the demo seeds after orders, `sessions_log.demo`, left out),
so the gain the built-in relationship gives is told apart from what independent contacts give. The
difference with - without comes with a paired bootstrap 95% interval over the held-out customers.
Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings.local")
    import django

    django.setup()


def _background_only(inputs: Any) -> Any:
    """The inputs with the demo's complaints after orders left out of the interactions."""
    import dataclasses

    import pandas as pd

    from profiles.pipeline.frames import to_utc
    from sessions_log.demo import COMPLAINT_SUBJECTS
    from sessions_log.models import Interaction

    rows = Interaction.objects.exclude(subject__in=COMPLAINT_SUBJECTS).values_list(
        "customer_id", "channel", "direction", "outcome", "occurred_at"
    )
    frame = pd.DataFrame(list(rows), columns=["customer_id", "kind", "direction", "outcome", "occurred_at"])
    frame["customer_id"] = frame["customer_id"].astype("str")
    frame["occurred_at"] = to_utc(frame["occurred_at"].astype(object))
    return dataclasses.replace(inputs, interactions=frame)


def _measure(inputs: Any, *, resamples: int, seed: int = 0) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    from django.utils import timezone
    from sklearn.metrics import roc_auc_score

    from profiles.pipeline.churn import churn_horizon, churn_training_frame, predict_churn, train_churn_model
    from profiles.pipeline.features import model_matrix
    from profiles.pipeline.interactions import INTERACTION_COLUMNS
    from profiles.pipeline.run import clean_inputs
    from profiles.services.rebuild import pipeline_params

    params = pipeline_params()
    moment = pd.Timestamp(timezone.now())
    data = clean_inputs(inputs, as_of=moment, params=params)
    days = churn_horizon(data.orders, minimum_days=params.churn_horizon_days)
    horizon = pd.Timedelta(days=days)
    frame = churn_training_frame(
        data.orders,
        data.events,
        cutoff=[moment - 2 * horizon, moment - horizon],
        horizon_days=days,
        interactions=data.interactions,
        customers=data.customers,
        timezone=params.timezone,
    )
    last = frame["cutoff"].max()
    train, test = frame[frame["cutoff"] < last], frame[frame["cutoff"] == last]
    labels = test["churned"].to_numpy(dtype=bool)
    with_model, _ = train_churn_model(train, horizon_days=days)
    without_model, _ = train_churn_model(train.drop(columns=list(INTERACTION_COLUMNS)), horizon_days=days)
    scores = {
        "with": predict_churn(with_model, test).to_numpy(),
        "without": predict_churn(without_model, test).to_numpy(),
        "recency": model_matrix(test)["recency_days"].to_numpy(),
    }
    aucs = {name: float(roc_auc_score(labels, values)) for name, values in scores.items()}
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(resamples):
        pick = rng.integers(0, len(labels), size=len(labels))
        if labels[pick].all() or not labels[pick].any():
            continue
        gains.append(
            roc_auc_score(labels[pick], scores["with"][pick])
            - roc_auc_score(labels[pick], scores["without"][pick])
        )
    low, high = np.quantile(gains, [0.025, 0.975]) if gains else (float("nan"), float("nan"))
    return {
        **aucs,
        "gain_low": float(low),
        "gain_high": float(high),
        "n_train": len(train),
        "n_test": len(test),
        "churn_rate_test": float(labels.mean()),
        "horizon_days": days,
        "interactions": len(data.interactions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=300)
    args = parser.parse_args()
    _setup()
    from customers.models import Customer
    from profiles.services.rebuild import pipeline_inputs_read

    started = time.perf_counter()
    inputs = pipeline_inputs_read(as_of=None)
    read_seconds = time.perf_counter() - started
    rows = []
    for name, variant in (("as seeded", inputs), ("background contacts only", _background_only(inputs))):
        result = _measure(variant, resamples=args.resamples)
        rows.append((name, result))
    print(
        f"{platform.node()} · {os.cpu_count()} CPUs · {Customer.objects.count():,} customers · "
        f"inputs read in {read_seconds:.1f} s"
    )
    print()
    print(
        "| interactions | rows | held-out snapshots (churn rate) | AUC with contacts | AUC without "
        "| gain (95% paired bootstrap) | naive baseline (recency only) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(
            f"| {name} | {r['interactions']:,} | {r['n_test']:,} ({r['churn_rate_test']:.0%}) "
            f"| {r['with']:.4f} | {r['without']:.4f} "
            f"| {r['with'] - r['without']:+.4f} ({r['gain_low']:+.4f} to {r['gain_high']:+.4f}) "
            f"| {r['recency']:.4f} |"
        )


if __name__ == "__main__":
    main()
