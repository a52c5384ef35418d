"""Celery tasks: thin, idempotent wrappers around the services."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError


@shared_task(
    name="orders.order_import_run_task",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=3,
)
def order_import_run_task(import_id: str) -> dict[str, object]:
    from orders.services.imports import order_import_run

    job = order_import_run(import_id=import_id)
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
