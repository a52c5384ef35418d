"""The nightly rebuild schedule, kept in django-celery-beat so managers can change it in the admin."""

from __future__ import annotations

from typing import Any

from django.conf import settings

SCHEDULE_NAME = "Nightly profile rebuild"
TASK_NAME = "profiles.rebuild"


def ensure_profile_schedule(crontab_model: Any = None, task_model: Any = None) -> Any:
    """Create the 02:00 (server time zone) schedule once; never overwrite a manager's later edits."""
    if crontab_model is None or task_model is None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        crontab_model, task_model = CrontabSchedule, PeriodicTask
    existing = task_model.objects.filter(name=SCHEDULE_NAME).first()
    if existing is not None:
        return existing
    crontab, _created = crontab_model.objects.get_or_create(
        minute="0",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    return task_model.objects.create(name=SCHEDULE_NAME, task=TASK_NAME, crontab=crontab, enabled=True)


def ensure_profile_schedule_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate hook (the test database skips migrations, so the migration alone is not enough)."""
    if getattr(sender, "label", None) != "profiles":
        return
    ensure_profile_schedule()
