"""The rebuild lock: one row with a unique name, taken over only when free, expired or ours.

Compare-and-set through a filtered ``update()`` (one statement on every backend) means two schedulers
racing for the lock cannot both win; a worker that died leaves a lock that expires by itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from crm_site.db import atomic
from profiles.models import ProfileRun, RebuildLock

LOCK_NAME = "profiles-rebuild"
LOCK_TTL = timedelta(minutes=30)


def lock_acquire(*, run: ProfileRun, ttl: timedelta = LOCK_TTL) -> bool:
    """True when ``run`` now holds the lock."""
    now = timezone.now()
    if not RebuildLock.objects.filter(name=LOCK_NAME).exists():
        try:
            with atomic():
                RebuildLock.objects.create(name=LOCK_NAME, run=run, expires_at=now + ttl)
            return True
        except IntegrityError:
            pass  # someone created it first; fall through to the compare-and-set
    free = Q(run__isnull=True) | Q(expires_at__lt=now) | Q(run=run)
    taken = RebuildLock.objects.filter(free, name=LOCK_NAME).update(run=run, expires_at=now + ttl)
    return taken == 1


def lock_extend(*, run_id: Any, ttl: timedelta = LOCK_TTL) -> None:
    """Push the expiry on while the run makes progress."""
    RebuildLock.objects.filter(name=LOCK_NAME, run_id=run_id).update(expires_at=timezone.now() + ttl)


def lock_release(*, run_id: Any) -> None:
    RebuildLock.objects.filter(name=LOCK_NAME, run_id=run_id).update(run=None, expires_at=timezone.now())


def lock_holder() -> ProfileRun | None:
    lock = (
        RebuildLock.objects.select_related("run")
        .filter(name=LOCK_NAME, expires_at__gte=timezone.now())
        .first()
    )
    return lock.run if lock else None
