"""Celery tasks: thin, idempotent wrappers around the services."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError


@shared_task(
    bind=True,
    name="orders.order_import_run_task",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=3,
)
def order_import_run_task(self: Any, import_id: str) -> dict[str, object]:
    from orders.services.import_jobs import order_import_run

    def report(meta: dict[str, Any]) -> None:
        # Write-phase progress as task state (result backend): the job row cannot show it mid-transaction.
        if not self.request.is_eager and self.request.id:
            self.update_state(state="PROGRESS", meta=meta)

    job = order_import_run(import_id=import_id, report=report)
    return {"status": job.status, "orders": job.orders_created, "lines": job.lines_created}


@shared_task(
    name="orders.service_orders_flag_breaches_task",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    max_retries=3,
)
def service_orders_flag_breaches_task() -> int:
    from orders.services.tickets import service_orders_flag_breaches

    return service_orders_flag_breaches()
