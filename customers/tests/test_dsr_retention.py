"""Retention of data-subject request archives: the zip of a completed or refused request goes N days after
completed_at (the customer has had their copy); the request itself stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from crm_site.retention import retention_run
from customers.models import DataSubjectRequest
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
Status = DataSubjectRequest.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.CRM_RETENTION_DAYS = {"dsr_archives": 30}


def _request(customer, *, status, completed_days_ago):
    now = timezone.now()
    request = DataSubjectRequest(
        customer=customer,
        kind=DataSubjectRequest.Kind.ACCESS,
        status=status,
        received_at=now - timedelta(days=60),
        due_at=now - timedelta(days=45),
        received_via="email",
        completed_at=None if completed_days_ago is None else now - timedelta(days=completed_days_ago),
    )
    request.archive.save("export.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18), save=False)
    request.save()
    request.refresh_from_db()  # the dates as the database keeps them (MongoDB: milliseconds)
    return request


def test_archives_of_done_requests_past_their_days_are_deleted_and_counted(
    sales_user, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=sales_user)
    old_done = _request(customer, status=Status.COMPLETED, completed_days_ago=31)
    old_refused = _request(customer, status=Status.REFUSED, completed_days_ago=40)
    recent = _request(customer, status=Status.COMPLETED, completed_days_ago=29)
    open_one = _request(customer, status=Status.IN_PROGRESS, completed_days_ago=None)
    gone = [old_done.archive.name, old_refused.archive.name]
    assert all(default_storage.exists(name) for name in gone)

    with django_capture_on_commit_callbacks(execute=True):
        run = retention_run(batch_size=1)  # two batches of one
    assert run.counts["dsr_archives"]["count"] == 2 and run.counts["dsr_archives"]["days"] == 30
    assert not any(default_storage.exists(name) for name in gone)
    for request in (old_done, old_refused):
        kept = DataSubjectRequest.objects.get(pk=request.pk)  # the request and its dates stay
        assert kept.archive.name == "" and kept.completed_at == request.completed_at
    for request in (recent, open_one):
        assert DataSubjectRequest.objects.get(pk=request.pk).archive.name == request.archive.name
        assert default_storage.exists(request.archive.name)

    with django_capture_on_commit_callbacks(execute=True):
        again = retention_run()
    assert again.counts["dsr_archives"]["count"] == 0


def test_zero_days_keeps_them(sales_user, settings):
    settings.CRM_RETENTION_DAYS = {"dsr_archives": 0}
    request = _request(CustomerFactory(owner=sales_user), status=Status.COMPLETED, completed_days_ago=5000)
    assert retention_run().counts["dsr_archives"] == {"days": 0, "count": 0}
    assert DataSubjectRequest.objects.get(pk=request.pk).archive.name == request.archive.name
