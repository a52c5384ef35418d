"""Retention: the nightly purge deletes or empties each kind past its days, in batches, and records counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_site.models import RetentionRun
from crm_site.retention import SCHEDULE_NAME, TASK_NAME, retention_run
from customers.tests.factories import CustomerFactory
from profiles.models import Event
from sessions_log.models import Attachment, Interaction, UnmatchedItem

pytestmark = pytest.mark.django_db

DAYS = {"events": 30, "email_bodies": 60, "attachments": 90, "call_recordings": 10, "dsr_archives": 30}


@pytest.fixture(autouse=True)
def retention(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.CRM_RETENTION_DAYS = dict(DAYS)


def _events(customer, count, *, age_days, start=0):
    at = timezone.now() - timedelta(days=age_days)
    Event.objects.bulk_create(
        Event(customer=customer, event_type="page_view", occurred_at=at, idempotency_key=f"k{start + i}")
        for i in range(count)
    )


def _email(customer, *, age_days, **fields):
    return Interaction.objects.create(
        customer=customer,
        channel="email",
        subject="Quote",
        body="My ID is 110101199001011234",
        quoted_text="> earlier",
        occurred_at=timezone.now() - timedelta(days=age_days),
        **fields,
    )


def _attachment(interaction, *, age_days):
    attachment = Attachment(interaction=interaction, name="scan.pdf", content_type="application/pdf", size=9)
    attachment.file.save("scan.pdf", ContentFile(b"%PDF-1.7\n"), save=False)
    attachment.save()
    Attachment.objects.filter(pk=attachment.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    return attachment


def test_each_kind_past_its_days_is_purged_the_rest_kept_and_the_counts_recorded(
    sales_user, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=sales_user)
    _events(customer, 3, age_days=31)
    _events(customer, 2, age_days=29, start=10)
    old_email, new_email = _email(customer, age_days=61), _email(customer, age_days=59)
    old_visit = Interaction.objects.create(
        customer=customer,
        channel="visit",
        body="Visit notes",
        occurred_at=timezone.now() - timedelta(days=400),
    )
    call = Interaction.objects.create(
        customer=customer,
        channel="call",
        recording_url="https://pbx.example.com/rec/1.mp3",
        transcript=[{"speaker": "customer", "text": "Hello"}],
        body="Call notes",
        occurred_at=timezone.now() - timedelta(days=11),
    )
    unmatched = UnmatchedItem.objects.create(
        channel="email", body="Who am I?", occurred_at=timezone.now() - timedelta(days=70)
    )
    old_file, new_file = _attachment(old_email, age_days=91), _attachment(new_email, age_days=89)
    old_path = old_file.file.name

    with django_capture_on_commit_callbacks(execute=True):
        run = retention_run()

    assert Event.objects.count() == 2
    old_email.refresh_from_db()
    assert (old_email.body, old_email.quoted_text, old_email.subject) == ("", "", "Quote")
    assert Interaction.objects.get(pk=new_email.pk).body.startswith("My ID")
    assert Interaction.objects.get(pk=old_visit.pk).body == "Visit notes"  # not an email: kept
    call.refresh_from_db()
    assert (call.recording_url, call.transcript, call.body) == ("", [], "Call notes")
    assert UnmatchedItem.objects.get(pk=unmatched.pk).body == ""
    assert list(Attachment.objects.values_list("pk", flat=True)) == [new_file.pk]
    assert not default_storage.exists(old_path) and default_storage.exists(new_file.file.name)

    run = RetentionRun.objects.get(pk=run.pk)
    assert run.status == RetentionRun.Status.SUCCEEDED and run.finished_at is not None
    assert {kind: found["count"] for kind, found in run.counts.items()} == {
        "events": 3,
        "email_bodies": 2,  # the interaction and the unmatched mail
        "attachments": 1,
        "call_recordings": 1,
        "dsr_archives": 0,  # none here: customers/tests/test_dsr_retention.py
    }
    assert run.counts["events"]["days"] == 30

    again = retention_run()
    assert {kind: found["count"] for kind, found in again.counts.items()} == dict.fromkeys(DAYS, 0)


def test_it_works_in_batches_with_the_same_queries_for_ten_or_a_hundred_rows(sales_user, settings):
    settings.CRM_RETENTION_DAYS = {"events": 30}
    customer = CustomerFactory(owner=sales_user)

    def queries_for(count):
        _events(customer, count, age_days=40, start=count * 1000)
        with CaptureQueriesContext(connection) as captured:
            run = retention_run(batch_size=1000)
        assert run.counts["events"]["count"] == count
        return len(captured)

    assert queries_for(10) == queries_for(100)
    _events(customer, 25, age_days=40)
    with CaptureQueriesContext(connection) as captured:
        run = retention_run(batch_size=10)
    assert run.counts["events"]["count"] == 25 and not Event.objects.exists()
    # SQL's DELETE, MongoDB's delete_many.
    deletes = [
        q
        for q in captured.captured_queries
        if q["sql"].lstrip().lower().startswith("delete") or ".delete_many(" in q["sql"]
    ]
    assert len(deletes) == 3, [q["sql"][:80] for q in captured.captured_queries]  # 10 + 10 + 5


def test_zero_days_keeps_a_kind_for_ever(sales_user, settings):
    settings.CRM_RETENTION_DAYS = {**DAYS, "events": 0}
    _events(CustomerFactory(owner=sales_user), 2, age_days=5000)
    run = retention_run()
    assert Event.objects.count() == 2 and run.counts["events"] == {"days": 0, "count": 0}


def test_migrate_creates_the_nightly_beat_entry_and_the_task_runs(sales_user):
    from django_celery_beat.models import PeriodicTask

    from crm_site.celery import app
    from crm_site.retention import ensure_retention_schedule
    from crm_site.tasks import retention_purge_task

    ensure_retention_schedule()  # as migrate does (MongoDB's flush after a transactional test empties it)
    entry = PeriodicTask.objects.get(name=SCHEDULE_NAME)
    assert entry.task == TASK_NAME and entry.enabled
    assert (entry.crontab.hour, entry.crontab.minute) == ("3", "30")
    assert TASK_NAME in app.tasks
    _events(CustomerFactory(owner=sales_user), 1, age_days=31)
    result = retention_purge_task.apply().get()
    assert result["counts"]["events"]["count"] == 1
    assert RetentionRun.objects.filter(pk=result["run"]).exists()


def test_the_admin_shows_runs_and_nobody_edits_them(client, manager_user):
    manager_user.is_superuser = True
    manager_user.save()
    client.force_login(manager_user)
    run = retention_run()
    listing = client.get("/admin/crm_site/retentionrun/")
    assert listing.status_code == 200 and "events: 0" in listing.content.decode()
    assert client.get("/admin/crm_site/retentionrun/add/").status_code == 403
    page = client.get(f"/admin/crm_site/retentionrun/{run.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/crm_site/retentionrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert RetentionRun.objects.filter(pk=run.pk).exists()
