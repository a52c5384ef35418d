"""Health probes for the database and the Celery broker, used by ``/healthz``."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType


def database_status() -> tuple[bool, str]:
    """Run one real query; True with the vendor name, or False with the error."""
    from django.db import connection

    try:
        ContentType.objects.exists()
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy; the message says which
        return False, f"{type(error).__name__}: {error}"
    return True, connection.vendor


def broker_status() -> tuple[bool, str]:
    """Ping the Redis broker, or report in-process mode when no broker is configured."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return True, "in-process (no broker configured)"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as error:  # noqa: BLE001
        return False, f"{type(error).__name__}: {error}"
    return True, "redis"
