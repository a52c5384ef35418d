"""A real Celery worker process (Redis broker) runs an uploaded order import end to end."""

import time

import pytest
from celery.result import AsyncResult
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_site.testing import celery_worker_process
from orders.models import OrderImport, SalesOrder
from orders.services.import_jobs import order_import_start
from orders.tests.test_imports import GOOD

pytestmark = pytest.mark.worker


def test_worker_process_imports_an_uploaded_file(
    transactional_db, sales_user, own_customer, phone, case, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)  # this process stores the upload; the worker reads it from there
    with celery_worker_process(extra_env={"DJANGO_MEDIA_ROOT": str(tmp_path)}):
        upload = SimpleUploadedFile("orders.csv", GOOD.encode("utf-8-sig"), content_type="text/csv")
        job = order_import_start(user=sales_user, uploaded_file=upload, dry_run=False)
        deadline = time.monotonic() + 120
        while job.status not in OrderImport.FINISHED and time.monotonic() < deadline:
            time.sleep(0.3)
            job.refresh_from_db()
        outcome = AsyncResult(job.task_id).get(timeout=30)
    assert job.status == OrderImport.Status.DONE, job.errors
    assert outcome == {"status": "done", "orders": 2, "lines": 3}
    assert set(SalesOrder.objects.values_list("number", flat=True)) == {"A-1", "A-2"}


def test_worker_runs_the_scheduled_sla_check_and_flags_an_overdue_ticket(transactional_db, own_customer):
    """The beat entry migrate creates, sent as beat sends it (task name, args, kwargs) to a real worker."""
    import json
    from datetime import timedelta

    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    from crm_site.celery import app
    from orders.models import ServiceOrder
    from orders.services.schedule import SCHEDULE_NAME, ensure_breach_schedule
    from orders.tests.factories import ServiceOrderFactory

    # The entry migrate creates (idempotent): made again here, as on MongoDB the flush after an earlier
    # transactional test empties every collection, the beat schedule's included.
    ensure_breach_schedule()

    entry = PeriodicTask.objects.get(name=SCHEDULE_NAME, enabled=True)
    opened = timezone.now() - timedelta(days=30)
    overdue = ServiceOrderFactory(customer=own_customer, opened_at=opened)
    in_time = ServiceOrderFactory(customer=own_customer)
    done = ServiceOrderFactory(
        customer=own_customer, opened_at=opened, status=ServiceOrder.Status.CLOSED, resolved_at=opened
    )
    ServiceOrder.objects.filter(pk=done.pk).update(sla_breached=False)
    assert overdue.sla_due_at < timezone.now() < in_time.sla_due_at
    with celery_worker_process() as worker:
        result = app.send_task(entry.task, args=json.loads(entry.args), kwargs=json.loads(entry.kwargs))
        assert result.get(timeout=60) == 1
        # Only the worker can have answered: this process sends tasks to its queue, never runs them.
        assert f"Task {entry.task}[{result.id}] received" in worker["log_path"].read_text(errors="replace")
    flagged = dict(ServiceOrder.objects.values_list("pk", "sla_breached"))
    assert flagged == {overdue.pk: True, in_time.pk: False, done.pk: False}
