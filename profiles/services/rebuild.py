"""The profile rebuild: lock -> fit once over everyone -> write chunks (fan-out) -> publish atomically.

Readers only ever see the active run. A new run becomes active in one atomic flip after every chunk
was written; a failed or killed run leaves the previous one active and can be resumed (only missing
chunks are redone, each chunk write being idempotent).
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic
from profiles.models import AssociationRule, CustomerProfile, ProfileRun, ProfileRunChunk, RebuildLock
from profiles.services import storage
from profiles.services.lock import lock_acquire, lock_extend, lock_release
from profiles.services.rows import profile_objects, staged_frame

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 10_000
WRITE_BATCH = 2_000
KEEP_RUNS = 3


class RebuildInProgress(Exception):
    """Another rebuild holds the lock."""


def end_of_day(day: Any) -> datetime:
    """The exclusive end of a calendar day in the server time zone: data *on* that day counts, data
    stamped at 00:00 of the next day does not (the one as-of helper, pipeline.frames.as_of_cutoff)."""
    from django.conf import settings

    from profiles.pipeline.frames import as_of_cutoff

    return as_of_cutoff(day, timezone=settings.TIME_ZONE).to_pydatetime()


def profile_rebuild_start(
    *,
    as_of: datetime | None = None,
    requested_by: Any = None,
    trigger: str = ProfileRun.Trigger.MANUAL,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    dispatch: bool = True,
) -> ProfileRun:
    """Create a run, take the rebuild lock and queue its computation; RebuildInProgress if locked."""
    with atomic():
        run = ProfileRun(
            as_of=as_of or timezone.now(),
            requested_by=requested_by,
            trigger=trigger,
            status=ProfileRun.Status.QUEUED,
            params={"chunk_size": int(chunk_size)},
        )
        run.full_clean()
        run.save()
        if not lock_acquire(run=run):
            raise RebuildInProgress(_("A profile rebuild is already running."))
    if dispatch:
        from profiles.tasks import profile_compute_task

        run_id = str(run.pk)
        from crm_site.db import on_commit

        on_commit(lambda: profile_compute_task.delay(run_id))
    return run


def pipeline_params() -> Any:
    """The pipeline's tunables, overridable through settings.PROFILES_PIPELINE_PARAMS."""
    from django.conf import settings

    from profiles.pipeline import PipelineParams
    from profiles.pipeline.scoring import parse_forecast_horizons

    overrides = dict(getattr(settings, "PROFILES_PIPELINE_PARAMS", {}) or {})
    if os.environ.get("PROFILES_PIPELINE_PARAMS"):
        # Lets a test hand a worker process the same small-data tunables as its own process.
        overrides.update(json.loads(os.environ["PROFILES_PIPELINE_PARAMS"]))
    if "k_range" in overrides:
        overrides["k_range"] = tuple(overrides["k_range"])
    overrides.setdefault(
        "expected_purchases_days",
        parse_forecast_horizons(getattr(settings, "PROFILES_FORECAST_HORIZONS", (90, 365))),
    )
    overrides.setdefault("timezone", settings.TIME_ZONE)
    overrides.setdefault("history_start", getattr(settings, "PROFILES_HISTORY_START", None))
    return PipelineParams(**overrides)


def _fail(run_id: Any, message: str) -> None:
    ProfileRun.objects.filter(pk=run_id).exclude(status=ProfileRun.Status.SUCCEEDED).update(
        status=ProfileRun.Status.FAILED, error=message[:20000], finished_at=timezone.now()
    )
    lock_release(run_id=run_id)


def _read_inputs(run: ProfileRun) -> dict[str, Any]:
    from profiles.inputs import read_inputs

    frames = read_inputs(as_of=run.as_of)
    # Inputs with no rows go to the pipeline as None (it builds empty frames with the right columns).
    return {name: (frame if len(frame.columns) else None) for name, frame in frames.items()}


def _rule_objects(run: ProfileRun, rules: Any) -> list[AssociationRule]:
    objects = []
    for row in rules.to_dict("records") if len(rules) else []:
        antecedent = row["antecedent"]
        items = [antecedent] if isinstance(antecedent, str) else [str(item) for item in antecedent]
        objects.append(
            AssociationRule(
                run=run,
                antecedent=items,
                antecedent_text=" + ".join(items)[:255],
                consequent=str(row["consequent"])[:100],
                support=float(row["support"]),
                confidence=float(row["confidence"]),
                lift=float(row["lift"]),
                count=int(row.get("count") or 0),
            )
        )
    return objects


def profile_compute(*, run_id: Any) -> int:
    """Read the inputs, fit every model once, stage the per-chunk rows; returns the number of chunks."""
    from profiles.pipeline import PipelineInputs, run_pipeline

    run = ProfileRun.objects.get(pk=run_id)
    if run.fitted_at is not None and storage.staging_dir(run.pk).exists():
        return run.chunks_total
    ProfileRun.objects.filter(pk=run.pk).update(
        status=ProfileRun.Status.RUNNING, started_at=run.started_at or timezone.now(), error=""
    )
    try:
        started = time.perf_counter()
        inputs = _read_inputs(run)
        read_seconds = time.perf_counter() - started
        outputs = run_pipeline(PipelineInputs(**inputs), as_of=run.as_of, params=pipeline_params())
        compute_seconds = time.perf_counter() - started - read_seconds
        customer_ids = set(inputs["customers"]["customer_id"]) if inputs["customers"] is not None else set()
        staged = staged_frame(outputs.profiles)
        # Ids seen only in orders/events (customers deleted since) have no row to point at.
        staged = staged[staged["customer_id"].isin(customer_ids)].sort_values("customer_id")
        chunk_size = int(run.params.get("chunk_size") or DEFAULT_CHUNK_SIZE)
        total = max(1, -(-len(staged) // chunk_size))
        for index in range(total):
            storage.dump(
                storage.chunk_path(run.pk, index), staged.iloc[index * chunk_size : (index + 1) * chunk_size]
            )
        storage.dump(storage.models_path(run.pk), outputs.models)
        with atomic():
            AssociationRule.objects.filter(run=run).delete()
            AssociationRule.objects.bulk_create(_rule_objects(run, outputs.rules), batch_size=WRITE_BATCH)
            ProfileRun.objects.filter(pk=run.pk).update(
                chunks_total=total,
                fitted_at=timezone.now(),
                models_path=str(storage.models_path(run.pk)),
                fitted=_jsonable(
                    {
                        "bgnbd": outputs.metrics.get("bgnbd"),
                        "gamma_gamma": outputs.metrics.get("gamma_gamma"),
                        "clusters": [
                            {"cluster": info.cluster, "name": info.name, "size": info.size}
                            for info in outputs.clusters
                        ],
                        "rules": len(outputs.rules),
                        "params": outputs.models.params.as_dict(),
                    }
                ),
                model_fits=_jsonable(outputs.metrics.get("models") or {}),
                metrics=_jsonable(
                    {
                        "churn": outputs.metrics.get("churn"),
                        "clusters": outputs.metrics.get("clusters"),
                        "warnings": outputs.warnings,
                    }
                ),
                cleaning=_jsonable(
                    {key: outputs.counts.get(key, {}) for key in ("events_dropped", "orders_dropped")}
                ),
                counts=_jsonable(
                    {
                        key: value
                        for key, value in outputs.counts.items()
                        if key not in ("events_dropped", "orders_dropped")
                    }
                    | {"profiles": len(staged), "rules": len(outputs.rules)}
                ),
                timings=_jsonable(
                    {"read": round(read_seconds, 3), "compute": round(compute_seconds, 3)} | outputs.timings
                ),
            )
        lock_extend(run_id=run.pk)
        return total
    except Exception:
        _fail(run.pk, traceback.format_exc())
        storage.remove_staging(run.pk)
        raise


def _jsonable(value: Any) -> Any:
    """Numpy scalars and tuples made JSON-friendly for the run's JSON fields."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return None if number != number or number in (float("inf"), float("-inf")) else number
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def profile_write_chunk(*, run_id: Any, chunk_index: int) -> int:
    """Write one chunk's profiles (idempotent: the chunk's earlier rows are replaced); returns rows."""
    delay = os.environ.get("PROFILES_TEST_CHUNK_DELAY")
    if delay:
        # Only the worker tests set this, to have time to kill a worker in the middle of a run.
        time.sleep(float(delay))
    try:
        return _write_chunk(run_id=run_id, chunk_index=chunk_index)
    except Exception:
        # The run stays resumable (its staged chunks are kept); readers keep the previous run.
        _fail(run_id, traceback.format_exc())
        raise


def _write_chunk(*, run_id: Any, chunk_index: int) -> int:
    run = ProfileRun.objects.get(pk=run_id)
    if ProfileRunChunk.objects.filter(run=run, index=chunk_index).exists():
        return 0
    staged = storage.load(storage.chunk_path(run.pk, chunk_index))
    objects = profile_objects(staged, run_id=run.pk, chunk=chunk_index, computed_at=run.as_of)
    with atomic():
        stale = list(CustomerProfile.objects.filter(run=run, chunk=chunk_index).values_list("pk", flat=True))
        for start in range(0, len(stale), WRITE_BATCH):
            CustomerProfile.objects.filter(pk__in=stale[start : start + WRITE_BATCH]).delete()
        CustomerProfile.objects.bulk_create(objects, batch_size=WRITE_BATCH)
        ProfileRunChunk.objects.create(run=run, index=chunk_index, rows=len(objects))
    done = ProfileRunChunk.objects.filter(run=run).count()
    ProfileRun.objects.filter(pk=run.pk).update(chunks_done=done)
    lock_extend(run_id=run.pk)
    return len(objects)


def missing_chunks(*, run_id: Any) -> list[int]:
    run = ProfileRun.objects.get(pk=run_id)
    done = set(ProfileRunChunk.objects.filter(run=run).values_list("index", flat=True))
    return [index for index in range(run.chunks_total) if index not in done]


def profile_publish(*, run_id: Any) -> bool:
    """Flip the active run to this one if every chunk is written; False when chunks are missing."""
    from profiles.services.segments import segments_refresh

    run = ProfileRun.objects.get(pk=run_id)
    if run.status == ProfileRun.Status.SUCCEEDED:
        return True
    if run.fitted_at is None or missing_chunks(run_id=run.pk):
        return False
    with atomic():
        # The flip: every other run off, this one on, in one transaction; readers see old or new.
        ProfileRun.objects.filter(is_active=True).exclude(pk=run.pk).update(is_active=False)
        ProfileRun.objects.filter(pk=run.pk).update(
            is_active=True, status=ProfileRun.Status.SUCCEEDED, finished_at=timezone.now(), error=""
        )
    run.refresh_from_db()
    segments_refresh(run=run)
    lock_release(run_id=run.pk)
    storage.remove_staging(run.pk)
    runs_prune(keep=KEEP_RUNS)
    return True


def runs_prune(*, keep: int = KEEP_RUNS) -> int:
    """Delete finished runs beyond the newest ``keep`` (never the active one), profiles first."""
    finished = list(
        ProfileRun.objects.filter(
            is_active=False, status__in=[ProfileRun.Status.SUCCEEDED, ProfileRun.Status.FAILED]
        )
        .order_by("-created_at")
        .values_list("pk", flat=True)
    )
    old = finished[keep:]
    for run_id in old:
        for model in (CustomerProfile, AssociationRule, ProfileRunChunk):
            while pks := list(model.objects.filter(run_id=run_id).values_list("pk", flat=True)[:WRITE_BATCH]):
                model.objects.filter(pk__in=pks).delete()
        RebuildLock.objects.filter(run_id=run_id).update(run=None)
        ProfileRun.objects.filter(pk=run_id).delete()
        storage.remove_models(run_id)
        storage.remove_staging(run_id)
    return len(old)


def profile_rebuild_resume(*, run_id: Any, dispatch: bool = True) -> ProfileRun:
    """Continue a failed or interrupted run: refit if it never got that far, else redo missing chunks."""
    run = ProfileRun.objects.get(pk=run_id)
    if run.status == ProfileRun.Status.SUCCEEDED:
        return run
    if not lock_acquire(run=run):
        raise RebuildInProgress(_("A profile rebuild is already running."))
    ProfileRun.objects.filter(pk=run.pk).update(status=ProfileRun.Status.RUNNING, error="", finished_at=None)
    if dispatch:
        from crm_site.db import on_commit
        from profiles.tasks import profile_compute_task, profile_continue_task

        run_key = str(run.pk)
        fitted = run.fitted_at is not None and storage.staging_dir(run.pk).exists()
        task = profile_continue_task if fitted else profile_compute_task
        on_commit(lambda: task.delay(run_key))
    run.refresh_from_db()
    return run


def profile_rebuild_sync(
    *,
    as_of: datetime | None = None,
    requested_by: Any = None,
    trigger: str = "command",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ProfileRun:
    """The whole rebuild in this process, no task queue (manage.py rebuild_profiles --sync, demo seed)."""
    run = profile_rebuild_start(
        as_of=as_of, requested_by=requested_by, trigger=trigger, chunk_size=chunk_size, dispatch=False
    )
    total = profile_compute(run_id=run.pk)
    for index in range(total):
        profile_write_chunk(run_id=run.pk, chunk_index=index)
    profile_publish(run_id=run.pk)
    run.refresh_from_db()
    return run


__all__ = [
    "RebuildInProgress",
    "end_of_day",
    "missing_chunks",
    "profile_compute",
    "profile_publish",
    "profile_rebuild_resume",
    "profile_rebuild_start",
    "profile_rebuild_sync",
    "profile_write_chunk",
    "runs_prune",
]
