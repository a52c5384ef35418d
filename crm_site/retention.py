"""Retention: each kind of data is kept so many days, then purged or anonymised by a nightly task.

Each app says what it keeps in a ``retention.py`` module (found by ``autodiscover_modules``, so crm_site
imports no higher app): ``retention_rules.register(RetentionRule(...))`` with a ``purge(cutoff=,
batch_size=)`` function that handles at most one batch of what is older than ``cutoff`` and returns how
many records it changed (0: nothing left). ``retention_run`` calls every rule until it returns 0 and keeps
the counts on a ``RetentionRun``; ``crm_site.retention_purge`` (a Celery task, beat entry "Nightly
retention purge" at 03:30) runs it. The days per kind are ``CRM_RETENTION_DAYS`` (settings, from the
environment: ``CRM_RETENTION_<KIND>_DAYS``; 0 keeps that kind for ever). docs/security.md "Retention".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

DEFAULT_BATCH_SIZE = 1000
SCHEDULE_NAME = "Nightly retention purge"
TASK_NAME = "crm_site.retention_purge"
SCHEDULE_HOUR, SCHEDULE_MINUTE = 3, 30  # after the 02:00 profile rebuild, before the working day


@dataclass(frozen=True)
class RetentionRule:
    """One kind of data with a retention period: ``key`` names its days in ``CRM_RETENTION_DAYS``."""

    key: str
    label: Any
    purge: Callable[..., int]
    action: Any = ""  # what happens to it, shown in docs and on the run ("deleted", "emptied")


class RetentionRegistry:
    def __init__(self) -> None:
        self._rules: dict[str, RetentionRule] = {}

    def register(self, rule: RetentionRule) -> None:
        self._rules[rule.key] = rule

    def rules(self) -> list[RetentionRule]:
        return sorted(self._rules.values(), key=lambda rule: rule.key)


retention_rules = RetentionRegistry()


def retention_days(key: str) -> int:
    """Days ``key`` is kept (0 or unset: for ever)."""
    return int(getattr(settings, "CRM_RETENTION_DAYS", {}).get(key, 0) or 0)


def batch_ids(queryset: Any, batch_size: int) -> list[Any]:
    """The primary keys of the first ``batch_size`` rows of ``queryset`` (one query), for a set-based
    update or delete of exactly those rows."""
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])


def retention_run(*, now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> Any:
    """Purge every registered kind past its retention, in batches; the run with its counts per kind.

    Each batch is its own transaction, so a run stopped half way keeps what it did and the next run goes
    on from there (the purges are idempotent: what was purged no longer matches).
    """
    from crm_site.db import atomic
    from crm_site.models import RetentionRun

    now = now or timezone.now()
    run = RetentionRun.objects.create(started_at=now, status=RetentionRun.Status.RUNNING)
    counts: dict[str, dict[str, Any]] = {}
    try:
        for rule in retention_rules.rules():
            days = retention_days(rule.key)
            if days <= 0:
                counts[rule.key] = {"days": 0, "count": 0}
                continue
            cutoff = now - timedelta(days=days)
            total = 0
            while True:
                with atomic():
                    done = rule.purge(cutoff=cutoff, batch_size=batch_size)
                total += done
                if not done:  # a rule may have several tables: stop only when a batch finds nothing
                    break
            counts[rule.key] = {"days": days, "cutoff": cutoff.isoformat(), "count": total}
    except Exception as exc:
        RetentionRun.objects.filter(pk=run.pk).update(
            status=RetentionRun.Status.FAILED,
            counts=counts,
            error=repr(exc)[:1000],
            finished_at=timezone.now(),
        )
        raise
    run.counts, run.status, run.finished_at = counts, RetentionRun.Status.SUCCEEDED, timezone.now()
    run.save(update_fields=["counts", "status", "finished_at", "updated_at"])
    return run


def ensure_retention_schedule(crontab_model: Any = None, task_model: Any = None) -> Any:
    """Create the 03:30 (server time zone) beat entry once; never overwrite a manager's later edits."""
    if crontab_model is None or task_model is None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        crontab_model, task_model = CrontabSchedule, PeriodicTask
    existing = task_model.objects.filter(name=SCHEDULE_NAME).first()
    if existing is not None:
        return existing
    crontab, _created = crontab_model.objects.get_or_create(
        minute=str(SCHEDULE_MINUTE),
        hour=str(SCHEDULE_HOUR),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    return task_model.objects.create(name=SCHEDULE_NAME, task=TASK_NAME, crontab=crontab, enabled=True)


def ensure_retention_schedule_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate hook (the test database skips migrations, so the migration alone is not enough)."""
    if getattr(sender, "label", None) != "crm_site":
        return
    ensure_retention_schedule()
