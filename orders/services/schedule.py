"""The SLA breach check's schedule, kept in django-celery-beat so managers can change it in the admin."""

from __future__ import annotations

from typing import Any

SCHEDULE_NAME = "Flag service tickets past their SLA"
TASK_NAME = "orders.service_orders_flag_breaches_task"
EVERY_MINUTES = 15


def ensure_breach_schedule(interval_model: Any = None, task_model: Any = None) -> Any:
    """Create the every-15-minutes schedule once; never overwrite a manager's later edits (idempotent).

    Takes the models as arguments so the data migration can pass its historical ones.
    """
    if interval_model is None or task_model is None:
        from django_celery_beat.models import IntervalSchedule, PeriodicTask

        interval_model, task_model = IntervalSchedule, PeriodicTask
    existing = task_model.objects.filter(name=SCHEDULE_NAME).first()
    if existing is not None:
        return existing
    interval, _created = interval_model.objects.get_or_create(every=EVERY_MINUTES, period="minutes")
    return task_model.objects.create(name=SCHEDULE_NAME, task=TASK_NAME, interval=interval, enabled=True)


def ensure_breach_schedule_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate hook (the test database skips migrations, so the migration alone is not enough)."""
    if getattr(sender, "label", None) != "orders":
        return
    ensure_breach_schedule()
