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
