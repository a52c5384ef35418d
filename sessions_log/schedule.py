"""The sessions log's beat schedules, kept in django-celery-beat so managers can change them in the admin.

- The follow-up digest at 07:30 server time: each staff member's overdue and today's follow-ups, one mail a
  day (``DigestSent`` makes a second run that day a no-op).
- Reading the configured mailboxes every 5 minutes (``MailAccount``; ``fetch_mail`` does the same by hand).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DIGEST_SCHEDULE_NAME = "Morning follow-up digest"
DIGEST_TASK_NAME = "sessions_log.follow_up_digest"
DIGEST_HOUR, DIGEST_MINUTE = 7, 30  # before the working day starts, in the server time zone

FETCH_SCHEDULE_NAME = "Read the mailboxes"
FETCH_TASK_NAME = "sessions_log.fetch_mail"
FETCH_EVERY_MINUTES = 5  # a customer's reply shows on the timeline within minutes, not hours


def ensure_sessions_log_schedules(
    crontab_model: Any = None, interval_model: Any = None, task_model: Any = None
) -> None:
    """Create both schedules once; never overwrite a manager's later edits (idempotent).

    Takes the models as arguments so the data migration can pass its historical ones.
    """
    if crontab_model is None or interval_model is None or task_model is None:
        from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

        crontab_model, interval_model, task_model = CrontabSchedule, IntervalSchedule, PeriodicTask
    if not task_model.objects.filter(name=DIGEST_SCHEDULE_NAME).exists():
        crontab, _created = crontab_model.objects.get_or_create(
            minute=str(DIGEST_MINUTE),
            hour=str(DIGEST_HOUR),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        task_model.objects.create(
            name=DIGEST_SCHEDULE_NAME, task=DIGEST_TASK_NAME, crontab=crontab, enabled=True
        )
    if not task_model.objects.filter(name=FETCH_SCHEDULE_NAME).exists():
        interval, _created = interval_model.objects.get_or_create(every=FETCH_EVERY_MINUTES, period="minutes")
        task_model.objects.create(
            name=FETCH_SCHEDULE_NAME, task=FETCH_TASK_NAME, interval=interval, enabled=True
        )


def ensure_sessions_log_schedules_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate hook (the test database skips migrations, so the migration alone is not enough)."""
    if getattr(sender, "label", None) != "sessions_log":
        return
    ensure_sessions_log_schedules()
