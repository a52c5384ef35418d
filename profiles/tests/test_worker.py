"""A real Celery worker process rebuilds the profiles; killing it mid-run never exposes a half run."""

import json
import os
import signal
import time

import pytest
from django.urls import reverse

from crm_site.testing import celery_worker_process
from profiles import selectors
from profiles.models import CustomerProfile, ProfileRun
from profiles.services import rebuild

pytestmark = pytest.mark.worker


def _worker(media_root, **options):
    """A worker with this test's media folder and the small-data pipeline tunables (conftest.py)."""
    return celery_worker_process(
        worker_settings={
            "MEDIA_ROOT": str(media_root),
            "PROFILES_PIPELINE_PARAMS": {"k_range": [2, 3], "cluster_sample_size": 1000},
        },
        **options,
    )


def _wait(run, done, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if done(run):
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run.pk} stuck: {run.status} {run.chunks_done}/{run.chunks_total} {run.error}")


def test_worker_rebuilds_and_the_customer_page_and_admin_show_it(
    transactional_db, history, manager_user, client, media_root
):
    with _worker(media_root):
        run = rebuild.profile_rebuild_start(requested_by=manager_user, chunk_size=10)
        _wait(run, lambda r: r.status in ("succeeded", "failed"))
    assert run.status == ProfileRun.Status.SUCCEEDED, run.error
    assert selectors.active_run() == run
    assert CustomerProfile.objects.filter(run=run).count() == len(history)
    profile = CustomerProfile.objects.get(run=run, customer=history[0])
    client.force_login(manager_user)
    page = client.get(reverse("customers:customer-detail", args=[history[0].pk])).content.decode()
    assert "Customer portrait" in page and profile.rfm_segment_label in page
    manager_user.is_superuser = True
    manager_user.save()
    changelist = client.get(reverse("admin:profiles_customerprofile_changelist")).content.decode()
    assert history[0].name in changelist


def test_killed_worker_leaves_the_old_run_and_a_retry_completes(transactional_db, history, media_root):
    old = rebuild.profile_rebuild_sync()
    # Two seconds before each chunk write: time to kill the worker between two of them.
    with _worker(media_root, task_delays={"profiles.write_chunk": 2}) as worker:
        run = rebuild.profile_rebuild_start(chunk_size=5)
        _wait(run, lambda r: r.chunks_done >= 1)
        os.kill(worker["process"].pid, signal.SIGKILL)
        worker["process"].wait()
    run.refresh_from_db()
    assert run.status == ProfileRun.Status.RUNNING and run.chunks_done < run.chunks_total
    # Readers still see the old, complete run.
    assert selectors.active_run() == old
    assert CustomerProfile.objects.filter(run=old).count() == len(history)
    with _worker(media_root):
        rebuild.profile_rebuild_resume(run_id=run.pk)
        _wait(run, lambda r: r.status in ("succeeded", "failed"))
    assert run.status == ProfileRun.Status.SUCCEEDED, run.error
    assert selectors.active_run() == run
    assert CustomerProfile.objects.filter(run=run).count() == len(history)


def test_worker_runs_the_nightly_beat_entry_end_to_end(transactional_db, history, media_root):
    """The beat entry migrate creates, sent as beat sends it (task name, args, kwargs) to a real worker:
    the task body starts a scheduled run and the worker fits, writes every chunk and publishes it."""
    from django_celery_beat.models import PeriodicTask

    from crm_site.celery import app
    from profiles.services.schedule import SCHEDULE_NAME, ensure_profile_schedule

    # The entry migrate creates (idempotent): made again here, as on MongoDB the flush after an earlier
    # transactional test empties every collection, the beat schedule's included.
    ensure_profile_schedule()
    entry = PeriodicTask.objects.get(name=SCHEDULE_NAME, enabled=True)
    assert entry.crontab is not None and (entry.crontab.hour, entry.crontab.minute) == ("2", "0")
    with _worker(media_root):
        result = app.send_task(entry.task, args=json.loads(entry.args), kwargs=json.loads(entry.kwargs))
        run_id = result.get(timeout=120)
        assert run_id is not None
        run = _wait(ProfileRun.objects.get(pk=run_id), lambda r: r.status in ("succeeded", "failed"))
    assert run.status == ProfileRun.Status.SUCCEEDED, run.error
    assert run.trigger == ProfileRun.Trigger.SCHEDULE
    assert selectors.active_run() == run
    assert CustomerProfile.objects.filter(run=run).count() == len(history)
