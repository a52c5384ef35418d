"""The benchmark's own Redis database: claimed before use, refused when it holds anyone else's keys.

The bench's Celery worker, web server, results and cache all use one Redis database (BENCH_BROKER_URL,
default database 11: the tests use 14 and the README's examples 0). ``claim`` takes it only when it is
empty, or holds nothing but what an earlier bench run left under its owner key; ``release`` deletes the
bench's own keys (Celery's queues, bindings and results, the cache's ``crm:`` prefix) one by one and then
the owner key. Nothing here ever runs FLUSHDB: a key the bench did not write is never deleted.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11")
OWNER_KEY = "crm-bench-profiles:owner"
# What the bench's processes write: kombu's queues and bindings, Celery's results, the Django cache.
OWN_PATTERNS = (
    "celery",
    "celery-task-meta-*",
    "celery-taskset-meta-*",
    "_kombu.*",
    "unacked*",
    "*.reply.celery.pidbox",
    "crm:*",
)
RESULT_PATTERN = "celery-task-meta-*"


class BrokerTaken(SystemExit):
    """The chosen Redis database holds keys the bench did not write."""


def _client() -> Any:
    import redis

    return redis.Redis.from_url(BROKER_URL)


def _delete_own(client: Any) -> int:
    deleted = 0
    for pattern in OWN_PATTERNS:
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 1000):
            deleted += client.delete(*keys[start : start + 1000])
    return deleted


def _foreign(client: Any, limit: int = 5) -> list[str]:
    found = []
    for key in client.scan_iter(count=1000):
        if key.decode() != OWNER_KEY:
            found.append(key.decode())
            if len(found) >= limit:
                break
    return found


def claim() -> str:
    """Take the bench's Redis database; returns the owner token (BrokerTaken if someone else uses it)."""
    client = _client()
    if client.exists(OWNER_KEY):
        # An earlier bench run that did not finish: its keys are ours to remove.
        _delete_own(client)
    foreign = _foreign(client)
    if foreign:
        raise BrokerTaken(
            f"profiles bench: Redis {BROKER_URL} holds {client.dbsize()} keys the bench did not write "
            f"(e.g. {', '.join(foreign)}); choose an unused database with BENCH_BROKER_URL=redis://…/N"
        )
    token = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "at": time.time()})
    client.set(OWNER_KEY, token)
    return token


def owned(token: str | None) -> bool:
    """Whether the database is still claimed with this token (a step run alone claims its own)."""
    if not token:
        return False
    stored = _client().get(OWNER_KEY)
    return stored is not None and stored.decode() == token


def release() -> list[str]:
    """Delete the bench's keys, then the owner key; returns foreign keys found (left alone)."""
    client = _client()
    _delete_own(client)
    foreign = _foreign(client)
    client.delete(OWNER_KEY)
    return foreign


def results_clear() -> None:
    """Forget the results of earlier tasks (the database is claimed: they are the bench's)."""
    client = _client()
    keys = list(client.scan_iter(match=RESULT_PATTERN, count=1000))
    if keys:
        client.delete(*keys)


def results_finished() -> tuple[int, int]:
    """(finished tasks, failed tasks) among the results stored since ``results_clear``."""
    client = _client()
    finished = failed = 0
    for key in client.scan_iter(match=RESULT_PATTERN, count=1000):
        payload = client.get(key)
        if payload is None:
            continue
        status = json.loads(payload).get("status")
        if status in ("SUCCESS", "FAILURE"):
            finished += 1
            failed += status == "FAILURE"
    return finished, failed


def queued() -> int:
    """Messages waiting in the default queue."""
    return int(_client().llen("celery"))
