"""Celery tasks: thin, idempotent wrappers around the profile services.

The rebuild's sequence lives in ``profiles.services.rebuild`` (its plan of steps); this module is its
Celery runner: ``rebuild_steps_send`` sends each step as the task of its kind, and each task runs its
step and sends the steps that step unlocks. Tasks import the services inside their bodies (the services
import this module at their top), so there is no import cycle. Follow-up tasks go to the default queue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from celery import shared_task

if TYPE_CHECKING:
    from profiles.services.rebuild import RebuildStep

logger = logging.getLogger(__name__)
COMMON = {"acks_late": True, "reject_on_worker_lost": True}


def rebuild_steps_send(steps: Iterable[RebuildStep]) -> None:
    """The Celery runner: queue each step as its task (the chunk writes fan out over the workers)."""
    for step in steps:
        if step.chunk_index is None:
            STEP_TASKS[step.kind].delay(step.run_id)
        else:
            STEP_TASKS[step.kind].delay(step.run_id, step.chunk_index)


def _step_run_and_send(kind: str, run_id: str, chunk_index: int | None = None) -> int:
    """Run one step of the plan, queue what it unlocks; returns how many steps were queued."""
    from profiles.services.rebuild import RebuildStep, StepKind, rebuild_step_run

    unlocked = rebuild_step_run(step=RebuildStep(StepKind(kind), run_id, chunk_index))
    rebuild_steps_send(unlocked)
    return len(unlocked)


@shared_task(name="profiles.rebuild", bind=True, **COMMON)
def profile_rebuild_task(self: Any, as_of: str | None = None) -> str | None:
    """The nightly entry point (beat): start a run unless one is already running."""
    from datetime import datetime

    from profiles.models import ProfileRun
    from profiles.services.rebuild import RebuildInProgress, profile_rebuild_start, rebuild_steps_left

    moment = datetime.fromisoformat(as_of) if as_of else None
    try:
        run = profile_rebuild_start(as_of=moment, trigger=ProfileRun.Trigger.SCHEDULE, dispatch=False)
    except RebuildInProgress:
        logger.info("nightly profile rebuild skipped: another rebuild holds the lock")
        return None
    rebuild_steps_send(rebuild_steps_left(run_id=run.pk))
    return str(run.pk)


@shared_task(name="profiles.compute", bind=True, **COMMON)
def profile_compute_task(self: Any, run_id: str) -> int:
    """Fit once over all customers, then fan the chunk writes out over the workers."""
    return _step_run_and_send("compute", run_id)


@shared_task(
    name="profiles.write_chunk",
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
    **COMMON,
)
def profile_write_chunk_task(self: Any, run_id: str, chunk_index: int) -> int:
    """Write one chunk; the last chunk to finish queues the publish."""
    return _step_run_and_send("write_chunk", run_id, chunk_index)


@shared_task(name="profiles.publish", bind=True, **COMMON)
def profile_publish_task(self: Any, run_id: str) -> int:
    return _step_run_and_send("publish", run_id)


STEP_TASKS = {
    "compute": profile_compute_task,
    "write_chunk": profile_write_chunk_task,
    "publish": profile_publish_task,
}


@shared_task(name="profiles.refresh_customers", bind=True, max_retries=3, **COMMON)
def profile_refresh_customers_task(self: Any, customer_ids: list[str]) -> int:
    from profiles.services.refresh import profile_refresh_customers

    return profile_refresh_customers(customer_ids=customer_ids)
