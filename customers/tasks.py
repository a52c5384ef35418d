"""Celery tasks: thin, idempotent wrappers around the import services."""

from __future__ import annotations

from celery import shared_task

from customers.models import CustomerImport


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def customer_import_validate_task(job_id: str) -> str:
    """Dry-run an import; re-running it recomputes the same result."""
    from customers.services.imports import customer_import_validate

    job = CustomerImport.objects.filter(pk=job_id, status=CustomerImport.Status.VALIDATING).first()
    if job is None:
        return "skipped"
    return customer_import_validate(job=job).status


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def customer_import_commit_task(job_id: str) -> str:
    """Commit an import; a job already done is skipped (external ids make re-runs update, not duplicate)."""
    from customers.services.imports import customer_import_commit

    job = CustomerImport.objects.filter(pk=job_id, status=CustomerImport.Status.VALID).first()
    if job is None:
        return "skipped"
    return customer_import_commit(job=job).status
