"""Profile changes: what moved in a customer's portrait between two scorings, for the customer timeline.

One rule (``changes_between``) for both writers: the rebuild's publish step compares the new run's rows
with the run it replaces, customer range by customer range (two indexed reads a batch on the
``(run, customer)`` unique index, no per-customer query), and the per-customer refresh compares the rows it
is about to overwrite with the fresh ones (one read for its whole batch).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_site.bulk import build_instances, field_defaults
from crm_site.db import bulk_reads
from profiles.models import CustomerProfile, ProfileChange, ProfileRun

# The churn risk at which the customer card paints the risk red (profiles/includes/_customer_profile_card
# .html): a rise is news for the owner when it crosses into that band. Rises below it, or within it,
# are the ordinary drift of a nightly refit and would bury the timeline in noise.
CHURN_RISK_HIGH = 0.6
# The fields compared, in the order ``Snapshot`` rows hold them (the last two only count towards the
# run's stability, not towards the timeline).
COMPARED = ("customer_id", "rfm_segment", "churn_risk", "clv_bucket", "clv_12m", "churn_band", "cluster")
# What run-to-run stability counts (ProfileRun.metrics["stability"]["moved"]): the kind and its position
# in a Snapshot. Cluster ids are matched across runs by the pipeline (profiles.pipeline.clusters), so equal
# ids mean the same group. A customer without a value on either side (never bought, too new, profiling
# refused, a run from before the field existed) is not counted for that kind: no value is not a move.
STABILITY_KINDS = {"churn_band": 5, "rfm_segment": 1, "cluster": 6}
# Issue 14's target: a rebuild where under 1% of the data changed moves under 5% of the customers.
STABILITY_TARGET = 0.05
STABILITY_DATA_CHANGE = 0.01
# Customers compared per step of the publish walk (two reads and one bulk insert each).
COMPARE_BATCH = 20_000
WRITE_BATCH = 2_000

Snapshot = tuple[Any, ...]  # the COMPARED values of one profile, customer id first (as text)


def churn_risk_rose(before: float | None, after: float | None) -> bool:
    """True when the risk crossed ``CHURN_RISK_HIGH`` upwards (from a known lower value)."""
    return before is not None and after is not None and before < CHURN_RISK_HIGH <= after


def changes_between(
    before: Mapping[str, Snapshot],
    after: Iterable[Snapshot],
    *,
    run_id: Any,
    occurred_at: datetime,
    source: str,
) -> list[ProfileChange]:
    """Unsaved ProfileChange rows for every customer of ``after`` whose segment moved, whose churn
    risk crossed ``CHURN_RISK_HIGH`` or whose value band changed since ``before`` (same customer id).
    A customer missing from ``before``, or without a value on either side, has no change."""
    rows: list[dict[str, Any]] = []
    for new in after:
        old = before.get(new[0])
        if old is None:
            continue
        customer_id, segment, risk, band, clv = new[:5]
        _id, old_segment, old_risk, old_band, old_clv = old[:5]
        if old_segment and segment and old_segment != segment:
            rows.append(_row(customer_id, ProfileChange.Kind.SEGMENT_MOVED, old_segment, segment))
        if churn_risk_rose(old_risk, risk):
            rows.append(
                _row(customer_id, ProfileChange.Kind.CHURN_RISK_UP, before_value=old_risk, after_value=risk)
            )
        if old_band is not None and band is not None and old_band != band:
            rows.append(
                _row(
                    customer_id,
                    ProfileChange.Kind.VALUE_TIER_CHANGED,
                    str(old_band),
                    str(band),
                    None if old_clv is None else float(old_clv),
                    None if clv is None else float(clv),
                )
            )
    defaults = field_defaults(ProfileChange) | {
        "run_id": run_id,
        "occurred_at": occurred_at,
        "source": source,
    }
    return build_instances(ProfileChange, defaults, rows)


def _row(
    customer_id: Any,
    kind: str,
    before: str = "",
    after: str = "",
    before_value: float | None = None,
    after_value: float | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "kind": kind,
        "before": before,
        "after": after,
        "before_value": before_value,
        "after_value": after_value,
    }


def snapshots(rows: Iterable[Snapshot]) -> dict[str, Snapshot]:
    """COMPARED rows keyed by customer id as text (the form the pipeline's frames use)."""
    return {str(row[0]): (str(row[0]), *row[1:]) for row in rows}


@dataclass
class StabilityCount:
    """Running counts of one publish walk: customers in both runs, new ones, and per kind those with a
    value on both sides (``counted``) and those whose value differs (``moved``)."""

    compared: int = 0
    new_customers: int = 0
    counted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STABILITY_KINDS, 0))
    moved: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STABILITY_KINDS, 0))

    def add(self, before: Mapping[str, Snapshot], after: Iterable[Snapshot]) -> None:
        for new in after:
            old = before.get(new[0])
            if old is None:
                self.new_customers += 1
                continue
            self.compared += 1
            for kind, position in STABILITY_KINDS.items():
                was, now = old[position], new[position]
                if was in (None, "") or now in (None, ""):
                    continue
                self.counted[kind] += 1
                self.moved[kind] += int(was != now)

    def as_metrics(self, *, previous: ProfileRun) -> dict[str, Any]:
        """ProfileRun.metrics["stability"]: the share of counted customers that moved, per kind (None
        when nobody had a value on both sides), against which run."""
        return {
            "previous_run": str(previous.pk),
            "previous_as_of": previous.as_of.isoformat() if previous.as_of else None,
            "compared": self.compared,
            "moved": {
                kind: (round(self.moved[kind] / self.counted[kind], 6) if self.counted[kind] else None)
                for kind in STABILITY_KINDS
            },
            "counted": dict(self.counted),
            "moved_count": dict(self.moved),
            "new_customers": self.new_customers,
        }


def profile_changes_record_run(*, run: ProfileRun, previous: ProfileRun | None) -> int:
    """Record what moved between ``previous`` (the run being replaced) and ``run``; returns the count.
    Also measures run-to-run stability (``StabilityCount``) and stores it as run.metrics["stability"].

    Walks ``run``'s customers in id order, ``COMPARE_BATCH`` at a time: the batch of the new run by
    keyset, then the old run's rows in the same customer id range, both on the (run, customer) unique
    index. Call it inside the publish transaction, so that a failed publish records nothing.
    """
    if previous is None or previous.pk == run.pk:
        return 0
    written = 0
    last: str | None = None
    occurred_at = run.as_of
    stability = StabilityCount()
    with bulk_reads():
        while True:
            batch = CustomerProfile.objects.filter(run=run)
            if last is not None:
                batch = batch.filter(customer_id__gt=last)
            rows = batch.order_by("customer_id").values_list(*COMPARED)[:COMPARE_BATCH]
            after = list(snapshots(rows).values())
            if not after:
                break
            first, last = after[0][0], after[-1][0]
            before = snapshots(
                CustomerProfile.objects.filter(
                    run=previous, customer_id__gte=first, customer_id__lte=last
                ).values_list(*COMPARED)
            )
            stability.add(before, after)
            changes = changes_between(
                before, after, run_id=run.pk, occurred_at=occurred_at, source=ProfileChange.Source.REBUILD
            )
            ProfileChange.objects.bulk_create(changes, batch_size=WRITE_BATCH)
            written += len(changes)
    metrics = dict(run.metrics or {}) | {"stability": stability.as_metrics(previous=previous)}
    ProfileRun.objects.filter(pk=run.pk).update(metrics=metrics)
    run.metrics = metrics
    return written


def profile_changes_record_refresh(
    *, run: ProfileRun, profiles: list[CustomerProfile], occurred_at: datetime
) -> int:
    """Record what the refresh of ``profiles`` (unsaved, fresh scores of ``run``) moves; returns the count.
    One read of the rows they replace. Call it before writing them, in the same transaction."""
    ids = [str(profile.customer_id) for profile in profiles]
    with bulk_reads():
        before = snapshots(
            CustomerProfile.objects.filter(run=run, customer_id__in=ids).values_list(*COMPARED)
        )
    after = [tuple(getattr(profile, name) for name in COMPARED) for profile in profiles]
    after = [(str(row[0]), *row[1:]) for row in after]
    changes = changes_between(
        before, after, run_id=run.pk, occurred_at=occurred_at, source=ProfileChange.Source.REFRESH
    )
    ProfileChange.objects.bulk_create(changes, batch_size=WRITE_BATCH)
    return len(changes)
