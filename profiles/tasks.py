"""Celery tasks: thin, idempotent wrappers around the rebuild and refresh services."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from profiles.services import rebuild
from profiles.services.refresh import profile_refresh_customers

logger = logging.getLogger(__name__)
COMMON = {"acks_late": True, "reject_on_worker_lost": True}


def _same_queue(task: Any) -> dict[str, Any]:
    """Send follow-up tasks to the queue this one came from (tests run workers on private queues)."""
    delivery = getattr(task.request, "delivery_info", None) or {}
    queue = delivery.get("routing_key")
    return {"queue": queue} if queue and not task.request.is_eager else {}


def _dispatch_chunks(task: Any, run_id: str) -> None:
    missing = rebuild.missing_chunks(run_id=run_id)
    if not missing:
        profile_publish_task.apply_async((run_id,), **_same_queue(task))
        return
    for index in missing:
        profile_write_chunk_task.apply_async((run_id, index), **_same_queue(task))


@shared_task(name="profiles.rebuild", bind=True, **COMMON)
def profile_rebuild_task(self: Any, as_of: str | None = None) -> str | None:
    """The nightly entry point (beat): start a run unless one is already running."""
    from datetime import datetime

    from profiles.models import ProfileRun

    moment = datetime.fromisoformat(as_of) if as_of else None
    try:
        run = rebuild.profile_rebuild_start(as_of=moment, trigger=ProfileRun.Trigger.SCHEDULE, dispatch=False)
    except rebuild.RebuildInProgress:
        logger.info("nightly profile rebuild skipped: another rebuild holds the lock")
        return None
    profile_compute_task.apply_async((str(run.pk),), **_same_queue(self))
    return str(run.pk)


@shared_task(name="profiles.compute", bind=True, **COMMON)
def profile_compute_task(self: Any, run_id: str) -> int:
    """Fit once over all customers, then fan the chunk writes out over the workers."""
    total = rebuild.profile_compute(run_id=run_id)
    _dispatch_chunks(self, run_id)
    return total


@shared_task(name="profiles.continue", bind=True, **COMMON)
def profile_continue_task(self: Any, run_id: str) -> None:
    """Resume a fitted run: queue whatever chunks are still missing (or publish)."""
    _dispatch_chunks(self, run_id)


@shared_task(
    name="profiles.write_chunk",
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
    **COMMON,
)
def profile_write_chunk_task(self: Any, run_id: str, chunk_index: int) -> int:
    rows = rebuild.profile_write_chunk(run_id=run_id, chunk_index=chunk_index)
    # The last chunk to finish publishes; publishing twice is harmless (it checks and flips once).
    if not rebuild.missing_chunks(run_id=run_id):
        profile_publish_task.apply_async((run_id,), **_same_queue(self))
    return rows


@shared_task(name="profiles.publish", bind=True, **COMMON)
def profile_publish_task(self: Any, run_id: str) -> bool:
    return rebuild.profile_publish(run_id=run_id)


@shared_task(name="profiles.refresh_customers", bind=True, max_retries=3, **COMMON)
def profile_refresh_customers_task(self: Any, customer_ids: list[str]) -> int:
    return profile_refresh_customers(customer_ids=customer_ids)
