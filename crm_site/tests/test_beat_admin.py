"""Managers change the beat schedules in the admin on every backend (MongoDB's ObjectId keys included)."""

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from sessions_log.schedule import DIGEST_SCHEDULE_NAME, ensure_sessions_log_schedules

pytestmark = pytest.mark.django_db


def test_a_manager_opens_and_changes_a_crontab_schedule(client, make_user):
    ensure_sessions_log_schedules()
    task = PeriodicTask.objects.get(name=DIGEST_SCHEDULE_NAME)
    boss = make_user("boss", "Manager")
    boss.is_staff = True
    boss.save()
    client.force_login(boss)
    url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert f'"{task.crontab_id}": "{task.crontab.human_readable}"' in response.content.decode()
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(enabled="", _save="Save")
    for key, value in list(data.items()):
        if isinstance(value, bool):
            data[key] = "on" if value else ""
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert PeriodicTask.objects.get(pk=task.pk).enabled is False
