"""The profile rebuild, written once: start -> compute -> write chunk x N -> publish.

- **start** (``profile_rebuild_start``): create the run and take the rebuild lock.
- **compute** (``profile_compute``): read the inputs, fit every model once over everyone, stage the
  profile rows in chunk files and record the fit on the run.
- **write chunk** (``profile_write_chunk``): one chunk's rows into the run (idempotent, any order).
- **publish** (``profile_publish``): once every chunk is written, make the run the active one in one
  atomic flip, recount the segments, release the lock and prune old runs.

The sequence is a plan of steps: ``rebuild_steps_left`` says what a run still needs (from its state in
the database, so a killed or failed run resumes where it stopped) and ``rebuild_step_run`` runs one step
and returns the steps it unlocks. Two runners execute the plan: ``rebuild_run_inline`` in this process
(``rebuild_profiles --sync``, the demo seed, tests) and ``profiles.tasks.rebuild_steps_send`` on Celery
(one task per step; the chunk writes fan out over the workers and the last one to finish publishes).

Readers only ever see the active run: a failed or killed run leaves the previous one active.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic, on_commit
from profiles.models import AssociationRule, CustomerProfile, ProfileRun, ProfileRunChunk, RebuildLock
from profiles.services import storage
from profiles.services.lock import lock_acquire, lock_extend, lock_release
from profiles.services.rows import profile_objects, staged_frame
from profiles.tasks import rebuild_steps_send

if TYPE_CHECKING:
    import pandas as pd

    from profiles.pipeline import PipelineInputs, PipelineModels, PipelineOutputs, PipelineParams

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_CHUNK_SIZE = 10_000
WRITE_BATCH = 2_000
KEEP_RUNS = 3
# Pipeline counts stored as the run's cleaning report (the rest go to ``counts``).
CLEANING_COUNTS = ("events_dropped", "orders_dropped")


class RebuildInProgress(Exception):
    """Another rebuild holds the lock."""


# --- The plan: which steps a run still needs, and running one ---------------------------------------------


class StepKind(StrEnum):
    COMPUTE = "compute"
    WRITE_CHUNK = "write_chunk"
    PUBLISH = "publish"


@dataclass(frozen=True)
class RebuildStep:
    """One step of one run; ``chunk_index`` only for WRITE_CHUNK. Plain values, so a task can carry it."""

    kind: StepKind
    run_id: str
    chunk_index: int | None = None


def rebuild_steps_left(*, run_id: Any) -> list[RebuildStep]:
    """What the run still needs: compute (not fitted yet), its missing chunk writes, else publish."""
    run = ProfileRun.objects.get(pk=run_id)
    key = str(run.pk)
    if run.status == ProfileRun.Status.SUCCEEDED:
        return []
    if not _is_fitted(run):
        return [RebuildStep(StepKind.COMPUTE, key)]
    writes = [RebuildStep(StepKind.WRITE_CHUNK, key, index) for index in missing_chunks(run_id=run.pk)]
    return writes or [RebuildStep(StepKind.PUBLISH, key)]


def rebuild_step_run(*, step: RebuildStep) -> list[RebuildStep]:
    """Run one step; returns the steps it unlocks (every chunk write after compute, publish after the
    last chunk write; publishing twice is harmless: it checks and flips once)."""
    if step.kind == StepKind.COMPUTE:
        profile_compute(run_id=step.run_id)
        return rebuild_steps_left(run_id=step.run_id)
    if step.kind == StepKind.WRITE_CHUNK:
        if step.chunk_index is None:
            raise ValueError("a write_chunk step needs its chunk_index")
        profile_write_chunk(run_id=step.run_id, chunk_index=step.chunk_index)
        return [] if missing_chunks(run_id=step.run_id) else [RebuildStep(StepKind.PUBLISH, step.run_id)]
    profile_publish(run_id=step.run_id)
    return []


def rebuild_run_inline(*, run_id: Any) -> None:
    """The in-process runner: every step the run still needs, one after the other."""
    pending = deque(rebuild_steps_left(run_id=run_id))
    while pending:
        pending.extend(rebuild_step_run(step=pending.popleft()))


# --- Starting, resuming -----------------------------------------------------------------------------------


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
    """Create a run and take the rebuild lock (RebuildInProgress if taken); with ``dispatch`` its steps
    go to the Celery runner once the transaction commits."""
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
        first = [RebuildStep(StepKind.COMPUTE, str(run.pk))]
        on_commit(lambda: rebuild_steps_send(first))
    return run


def profile_rebuild_resume(*, run_id: Any, dispatch: bool = True) -> ProfileRun:
    """Continue a failed or interrupted run: refit if it never got that far, else redo missing chunks."""
    run = ProfileRun.objects.get(pk=run_id)
    if run.status == ProfileRun.Status.SUCCEEDED:
        return run
    if not lock_acquire(run=run):
        raise RebuildInProgress(_("A profile rebuild is already running."))
    ProfileRun.objects.filter(pk=run.pk).update(status=ProfileRun.Status.RUNNING, error="", finished_at=None)
    if dispatch:
        on_commit(lambda: rebuild_steps_send(rebuild_steps_left(run_id=run.pk)))
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
    rebuild_run_inline(run_id=run.pk)
    run.refresh_from_db()
    return run


# --- Step "compute": read -> fit -> stage -> record ---------------------------------------------------------


def pipeline_params() -> PipelineParams:
    """The pipeline's tunables: settings.PROFILES_PIPELINE_PARAMS over the defaults, plus the forecast
    horizons, time zone, history start and cluster k range and minimum share of the settings
    (ImproperlyConfigured naming the setting when a cluster setting is malformed)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from profiles.pipeline import PipelineParams
    from profiles.pipeline.clusters import DEFAULT_K_RANGE, DEFAULT_MIN_SHARE, parse_k_range
    from profiles.pipeline.scoring import parse_forecast_horizons

    overrides = dict(getattr(settings, "PROFILES_PIPELINE_PARAMS", {}) or {})
    # A k_range in PROFILES_PIPELINE_PARAMS (tests, notebooks) wins over the setting; the error names
    # whichever was read.
    source = "PROFILES_PIPELINE_PARAMS['k_range']" if "k_range" in overrides else "PROFILES_CLUSTER_K_RANGE"
    overrides.setdefault("k_range", getattr(settings, "PROFILES_CLUSTER_K_RANGE", DEFAULT_K_RANGE))
    try:
        overrides["k_range"] = parse_k_range(overrides["k_range"])
    except ValueError as error:
        raise ImproperlyConfigured(f"{source}: {error}") from None
    share = overrides.setdefault(
        "cluster_min_share", getattr(settings, "PROFILES_CLUSTER_MIN_SHARE", DEFAULT_MIN_SHARE)
    )
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 0.5:
        raise ImproperlyConfigured(
            f"PROFILES_CLUSTER_MIN_SHARE: a share of the customers from 0 (merge nothing) to under 0.5, "
            f"e.g. 0.02 for 2% (got {share!r})"
        )
    overrides.setdefault(
        "expected_purchases_days",
        parse_forecast_horizons(getattr(settings, "PROFILES_FORECAST_HORIZONS", (90, 365))),
    )
    overrides.setdefault("timezone", settings.TIME_ZONE)
    overrides.setdefault("history_start", getattr(settings, "PROFILES_HISTORY_START", None))
    return PipelineParams(**overrides)


def pipeline_inputs_read(
    *, as_of: datetime | None, customer_ids: list[str] | None = None, chunk_size: int = 50_000
) -> PipelineInputs:
    """The pipeline's inputs from the database; an input with no rows is None (the pipeline builds an
    empty frame with the right columns)."""
    from profiles.inputs import read_inputs
    from profiles.pipeline import PipelineInputs

    frames = read_inputs(as_of=as_of, customer_ids=customer_ids, chunk_size=chunk_size)
    return PipelineInputs(**{name: (frame if len(frame.columns) else None) for name, frame in frames.items()})


def pipeline_fit(
    inputs: PipelineInputs, *, as_of: datetime, previous: PipelineModels | None = None
) -> PipelineOutputs:
    """The pure pipeline (no database): every model fitted once and every customer scored; `previous`,
    the active run's models, keeps cluster ids (hence cluster segments) where the clusters stayed."""
    from profiles.pipeline import run_pipeline

    return run_pipeline(inputs, as_of=as_of, params=pipeline_params(), previous=previous)


def previous_models_load(*, run_id: Any) -> PipelineModels | None:
    """The active run's fitted models (other than `run_id`'s), or None: no active run, or its file is
    missing or unreadable (pruned, written by an older version) means no previous, never a failure."""
    import pickle

    from profiles.pipeline import PipelineModels

    active = ProfileRun.objects.filter(is_active=True).exclude(pk=run_id).order_by("-finished_at").first()
    if active is None:
        return None
    try:
        models = storage.load(storage.models_path(active.pk))
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        logger.warning("previous run %s: models unreadable; cluster ids start afresh", active.pk)
        return None
    return models if isinstance(models, PipelineModels) else None


def profiles_staged(outputs: PipelineOutputs, inputs: PipelineInputs) -> pd.DataFrame:
    """The profile rows to write, typed for CustomerProfile, in customer order; ids seen only in orders
    or events (customers deleted since) have no row to point at and are left out."""
    known = set(inputs.customers["customer_id"]) if inputs.customers is not None else set()
    staged = staged_frame(outputs.profiles)
    staged = staged[staged["customer_id"].isin(known)].sort_values("customer_id")
    return profiling_refusals_apply(staged)


def profiling_refusals_apply(staged: pd.DataFrame) -> pd.DataFrame:
    """Customers who refused profiling (PIPL Art. 24; ``customers.selectors.consent``) get no cluster
    and no next best offer: their rows keep the descriptive figures (orders, spend) only."""
    import pandas as pd

    from customers.models import ConsentPurpose
    from customers.selectors.consent import customer_ids_refusing

    refused = {
        str(pk)
        for pk in customer_ids_refusing(ConsentPurpose.PROFILING).values_list("customer_id", flat=True)
    }
    if not refused or staged.empty:
        return staged
    mask = staged["customer_id"].isin(refused)
    if mask.any():
        staged = staged.copy()
        staged.loc[mask, "cluster"] = pd.NA
        staged.loc[mask, "cluster_name"] = ""
        staged.loc[mask, "next_best_offers"] = pd.Series(
            [[] for _ in range(int(mask.sum()))], index=staged.index[mask]
        )
        staged.loc[mask, "offers_text"] = ""
        if "explanation" in staged.columns:
            # The reasons behind offers that are no longer made go with them.
            staged.loc[mask, "explanation"] = pd.Series(
                [{**(item or {}), "offer_reasons": []} for item in staged.loc[mask, "explanation"]],
                index=staged.index[mask],
                dtype="object",
            )
    return staged


def chunks_stage(*, run_id: Any, staged: pd.DataFrame, chunk_size: int) -> int:
    """Cut the rows into chunk files for the writers (at least one, maybe empty); returns their number."""
    total = max(1, -(-len(staged) // chunk_size))
    for index in range(total):
        chunk = staged.iloc[index * chunk_size : (index + 1) * chunk_size]
        storage.dump(storage.chunk_path(run_id, index), chunk)
    return total


@dataclass(frozen=True)
class RunSummary:
    """The run's JSON fields, as stored on ProfileRun once it is fitted."""

    fitted: dict[str, Any]
    model_fits: dict[str, Any]
    metrics: dict[str, Any]
    cleaning: dict[str, Any]
    counts: dict[str, Any]
    timings: dict[str, Any]

    def as_fields(self) -> dict[str, Any]:
        return {field.name: _jsonable(getattr(self, field.name)) for field in fields(self)}


def run_summary(outputs: PipelineOutputs, *, profiles: int, timings: dict[str, float]) -> RunSummary:
    """What the run page shows of a fit: models, quality metrics, cleaning, counts and step timings."""
    return RunSummary(
        fitted={
            "bgnbd": outputs.metrics.get("bgnbd"),
            "gamma_gamma": outputs.metrics.get("gamma_gamma"),
            "clusters": [
                {"cluster": info.cluster, "name": info.name, "size": info.size} for info in outputs.clusters
            ],
            "rules": len(outputs.rules),
            "params": outputs.models.params.as_dict(),
        },
        model_fits=outputs.metrics.get("models") or {},
        metrics={
            "churn": outputs.metrics.get("churn"),
            "clusters": outputs.metrics.get("clusters"),
            # The forecast and offers against their naive baselines (profiles.pipeline.evaluation).
            "evaluation": outputs.metrics.get("evaluation"),
            "warnings": outputs.warnings,
        },
        cleaning={key: outputs.counts.get(key, {}) for key in CLEANING_COUNTS},
        counts={key: value for key, value in outputs.counts.items() if key not in CLEANING_COUNTS}
        | {"profiles": profiles, "rules": len(outputs.rules)},
        timings=timings | outputs.timings,
    )


def fit_record(*, run: ProfileRun, rules: pd.DataFrame, summary: RunSummary, chunks_total: int) -> None:
    """Store the run's association rules and mark it fitted, in one transaction."""
    with atomic():
        AssociationRule.objects.filter(run=run).delete()
        AssociationRule.objects.bulk_create(_rule_objects(run, rules), batch_size=WRITE_BATCH)
        ProfileRun.objects.filter(pk=run.pk).update(
            chunks_total=chunks_total,
            fitted_at=timezone.now(),
            models_path=str(storage.models_path(run.pk)),
            **summary.as_fields(),
        )


def profile_compute(*, run_id: Any) -> int:
    """Step "compute": read, fit, stage and record; returns the number of chunks (a run already fitted
    and staged is left as it is). On failure the run is marked failed and its staging removed."""
    run = ProfileRun.objects.get(pk=run_id)
    if _is_fitted(run):
        return run.chunks_total
    ProfileRun.objects.filter(pk=run.pk).update(
        status=ProfileRun.Status.RUNNING, started_at=run.started_at or timezone.now(), error=""
    )
    try:
        inputs, read_seconds = _timed(lambda: pipeline_inputs_read(as_of=run.as_of))
        previous = previous_models_load(run_id=run.pk)
        outputs, compute_seconds = _timed(lambda: pipeline_fit(inputs, as_of=run.as_of, previous=previous))
        staged = profiles_staged(outputs, inputs)
        total = chunks_stage(run_id=run.pk, staged=staged, chunk_size=_chunk_size(run))
        storage.dump(storage.models_path(run.pk), outputs.models)
        timings = {"read": round(read_seconds, 3), "compute": round(compute_seconds, 3)}
        summary = run_summary(outputs, profiles=len(staged), timings=timings)
        fit_record(run=run, rules=outputs.rules, summary=summary, chunks_total=total)
        lock_extend(run_id=run.pk)
        return total
    except Exception:
        _fail(run.pk, traceback.format_exc())
        storage.remove_staging(run.pk)
        raise


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def _is_fitted(run: ProfileRun) -> bool:
    """Fitted and its chunk files still there (a run whose staging is gone must be refitted)."""
    return run.fitted_at is not None and storage.staging_dir(run.pk).exists()


def _chunk_size(run: ProfileRun) -> int:
    return int(run.params.get("chunk_size") or DEFAULT_CHUNK_SIZE)


def _fail(run_id: Any, message: str) -> None:
    ProfileRun.objects.filter(pk=run_id).exclude(status=ProfileRun.Status.SUCCEEDED).update(
        status=ProfileRun.Status.FAILED, error=message[:20000], finished_at=timezone.now()
    )
    lock_release(run_id=run_id)


def _rule_objects(run: ProfileRun, rules: pd.DataFrame) -> list[AssociationRule]:
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


# --- Step "write chunk" -----------------------------------------------------------------------------------


def profile_write_chunk(*, run_id: Any, chunk_index: int) -> int:
    """Write one chunk's profiles (idempotent: the chunk's earlier rows are replaced); returns rows."""
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


# --- Step "publish" ---------------------------------------------------------------------------------------


def profile_publish(*, run_id: Any) -> bool:
    """Flip the active run to this one if every chunk is written; False when chunks are missing."""
    from profiles.services.changes import profile_changes_record_run
    from profiles.services.segments import segments_refresh

    run = ProfileRun.objects.get(pk=run_id)
    if run.status == ProfileRun.Status.SUCCEEDED:
        return True
    if run.fitted_at is None or missing_chunks(run_id=run.pk):
        return False
    previous = ProfileRun.objects.filter(is_active=True).exclude(pk=run.pk).order_by("-finished_at").first()
    with atomic():
        # The flip: this one on, every other run off, in one transaction; readers see old or new. A
        # second publisher's conditional update waits for the first's and then flips nothing, so what
        # moved since the replaced run (for the customer timeline) is recorded once, with the flip.
        flipped = (
            ProfileRun.objects.filter(pk=run.pk)
            .exclude(status=ProfileRun.Status.SUCCEEDED)
            .update(is_active=True, status=ProfileRun.Status.SUCCEEDED, finished_at=timezone.now(), error="")
        )
        if flipped:
            ProfileRun.objects.filter(is_active=True).exclude(pk=run.pk).update(is_active=False)
            profile_changes_record_run(run=run, previous=previous)
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


__all__ = [
    "RebuildInProgress",
    "RebuildStep",
    "RunSummary",
    "StepKind",
    "end_of_day",
    "missing_chunks",
    "pipeline_inputs_read",
    "pipeline_params",
    "profile_compute",
    "profile_publish",
    "profile_rebuild_resume",
    "profile_rebuild_start",
    "profile_rebuild_sync",
    "profile_write_chunk",
    "rebuild_run_inline",
    "rebuild_step_run",
    "rebuild_steps_left",
    "run_summary",
    "runs_prune",
]
