"""A real Celery worker process runs the import's dry run and commit (pages schedule them on commit)."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_site.db import atomic
from crm_site.testing import celery_worker_process
from customers.models import Customer, CustomerImport
from customers.services.imports import (
    customer_import_create,
    customer_import_schedule,
    customer_import_set_mapping,
)

pytestmark = pytest.mark.worker

HEADER = "external_id,name,mobile,owner,lifecycle_stage\n"


def _wait(job, statuses, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.3)
    raise AssertionError(f"import {job.pk} stuck in {job.status}: {job.message}")


def test_worker_checks_then_commits_an_import(transactional_db, sales_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    rows = "".join(f"W{n},工人 Worker {n},1370000{n:04d},sales_a,lead\n" for n in range(30))
    job = customer_import_create(
        upload=SimpleUploadedFile("w.csv", (HEADER + rows).encode()), encoding="utf-8", user=sales_user
    )
    job = customer_import_set_mapping(job=job, mapping={name: name for name in job.headers})
    with celery_worker_process(extra_env={"DJANGO_MEDIA_ROOT": str(tmp_path)}):
        with atomic():
            CustomerImport.objects.filter(pk=job.pk).update(status=CustomerImport.Status.VALIDATING)
            customer_import_schedule(job=job, step="validate")
        job = _wait(
            job, {CustomerImport.Status.VALID, CustomerImport.Status.INVALID, CustomerImport.Status.FAILED}
        )
        assert job.status == CustomerImport.Status.VALID, job.errors
        assert not Customer.objects.exists()  # the dry run writes nothing
        with atomic():
            customer_import_schedule(job=job, step="commit")
        job = _wait(job, {CustomerImport.Status.DONE, CustomerImport.Status.FAILED})
    assert job.status == CustomerImport.Status.DONE, job.message
    assert Customer.objects.filter(external_id__startswith="W", owner=sales_user).count() == 30
