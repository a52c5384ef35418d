"""Retention of raw behaviour events (crm_site.retention): past ``CRM_RETENTION_DAYS["events"]`` they are
deleted; the profiles already computed from them keep their figures until the next rebuild."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from crm_site.retention import RetentionRule, batch_ids, retention_rules
from profiles.models import Event


def events_purge(*, cutoff: datetime, batch_size: int) -> int:
    """Delete at most ``batch_size`` events that occurred before ``cutoff``: one SELECT, one DELETE."""
    ids = batch_ids(Event.objects.filter(occurred_at__lt=cutoff), batch_size)
    if ids:
        Event.objects.filter(pk__in=ids).delete()
    return len(ids)


retention_rules.register(
    RetentionRule(key="events", label=_("Raw behaviour events"), purge=events_purge, action=_("deleted"))
)
