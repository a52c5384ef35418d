"""Profiles bench, step "ingest": events over HTTP, each batch's profile refresh done by the worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import _broker as broker
from bench._worker import celery_worker

ROOT = Path(__file__).resolve().parent.parent
INGEST_PORT = int(os.environ.get("BENCH_INGEST_PORT", "8106"))
INGEST_BATCHES = int(os.environ.get("BENCH_INGEST_BATCHES", "60"))
REFRESH_TIMEOUT = 3600


def _refreshes_wait(expected: int) -> tuple[int, int]:
    """Block until ``expected`` refresh tasks have finished on the worker; (finished, failed)."""
    deadline = time.monotonic() + REFRESH_TIMEOUT
    while True:
        finished, failed = broker.results_finished()
        if finished >= expected:
            return finished, failed
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {finished} of {expected} profile refreshes finished in time")
        time.sleep(0.2)


def ingest(size: int) -> dict:
    """POST INGEST_BATCHES batches of 1,000 new events to gunicorn; each stored batch queues one refresh
    task (its customers re-scored with the active run's models), which the bench's worker runs.

    Server: `gunicorn crm_site.wsgi` with 2 sync workers and DEBUG off on 127.0.0.1, sharing the machine
    with the Celery worker as a small deployment does; the client keeps 2 requests in flight from threads
    with keep-alive connections. Timed until the last refresh has finished.
    """
    import http.client
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from crm_site.api import api_token_create
    from customers.models import Customer

    user, _created = get_user_model().objects.get_or_create(
        username="bench-api", defaults={"is_superuser": True}
    )
    user.is_superuser = True
    user.save()
    _token, key = api_token_create(name="bench", user=user)
    ids = [str(pk) for pk in Customer.objects.order_by("pk").values_list("pk", flat=True)[:5000]]
    stamp = time.time_ns()
    moment = timezone.now().isoformat()
    bodies = [
        json.dumps(
            [
                {
                    "customer_id": ids[(batch * 1000 + i) % len(ids)],
                    "event_type": ("page_view", "search")[i % 2],
                    "occurred_at": moment,
                    "channel": "web",
                    "properties": {"query": "手机"} if i % 2 else {},
                    "idempotency_key": f"ingest-{stamp}-{batch}-{i}",
                }
                for i in range(1000)
            ]
        )
        for batch in range(INGEST_BATCHES + 2)
    ]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connections: dict[int, http.client.HTTPConnection] = {}

    def post(body: str) -> int:
        conn = connections.setdefault(
            threading.get_ident(), http.client.HTTPConnection("127.0.0.1", INGEST_PORT, timeout=120)
        )
        conn.request("POST", "/api/events/", body=body.encode(), headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"ingest answered {response.status}: {payload[:300]!r}")
        return json.loads(payload)["stored"]

    server = None
    broker.results_clear()
    with celery_worker() as memory:
        try:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "crm_site.wsgi", "-w", "2", "-b",
                 f"127.0.0.1:{INGEST_PORT}", "--log-level", "warning"],
                cwd=ROOT, env={**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"},
            )  # fmt: skip
            for _attempt in range(300):  # wait for the server
                try:
                    post(bodies[0])
                    break
                except OSError:
                    connections.clear()
                    time.sleep(0.2)
            post(bodies[1])  # warm the second web worker too
            _refreshes_wait(2)  # and both warm-up refreshes done before the clock starts
            broker.results_clear()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=2) as pool:
                stored = list(pool.map(post, bodies[2:]))
            accepted = time.perf_counter() - started
            expected = sum(1 for count in stored if count)
            finished, failed = _refreshes_wait(expected)
            seconds = time.perf_counter() - started
            peak = memory.stop()
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    total = sum(stored)
    return {
        "events": total,
        "batches": len(stored),
        "accepted_seconds": accepted,
        "accepted_per_s": total / accepted,
        "seconds": seconds,
        "events_per_s": total / seconds,
        "refreshes": finished,
        "failed": failed,
        **peak,
    }
