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
    """Ping the Redis broker, check the embedded (filesystem) queue folder, or report in-process mode."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return True, "in-process (no broker configured)"
    if url.startswith("filesystem:"):
        return embedded_broker_status()
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as error:  # noqa: BLE001
        return False, f"{type(error).__name__}: {error}"
    return True, "redis"


def embedded_broker_status() -> tuple[bool, str]:
    """The filesystem transport's queue folder must exist and be writable; says how many tasks wait.

    The folder's path is not shown (``/healthz`` answers anyone).
    """
    import os

    queue = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("data_folder_in", "")
    if not queue or not os.path.isdir(queue) or not os.access(queue, os.W_OK | os.X_OK):
        return False, "embedded filesystem queue folder missing or not writable"
    waiting = sum(1 for name in os.listdir(queue) if name.endswith(".msg"))
    return True, f"embedded (filesystem queue, {waiting} waiting)"
