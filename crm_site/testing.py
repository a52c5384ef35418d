"""Helpers shared by every app's tests: service availability and a real Celery worker process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from crm_site.settings.database import MONGODB_ENGINE

BASE_DIR = Path(settings.BASE_DIR)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def services_required() -> bool:
    """CI sets REQUIRE_SERVICES so that a missing service fails the run instead of skipping."""
    return os.environ.get("REQUIRE_SERVICES", "") not in ("", "0", "false")


def port_open(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, available: bool) -> None:
    """Skip (or fail, under REQUIRE_SERVICES) when a service the test needs is absent."""
    if available:
        return
    message = f"{name} is not available"
    if services_required():
        pytest.fail(f"{message} and REQUIRE_SERVICES is set")
    pytest.skip(message)


def test_database_url() -> str:
    """A DATABASE_URL that points a child process at the database this test run uses."""
    db = settings.DATABASES["default"]
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    if engine == MONGODB_ENGINE:
        parts = urlsplit(db["HOST"])
        return f"{parts.scheme}://{parts.netloc}/{db['NAME']}?{parts.query}".rstrip("?")
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _forget_connections(app) -> None:
    """Drop the app's cached broker pools and result backend so changed settings take effect."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@contextmanager
def celery_worker_process(*, concurrency: int = 1, extra_env: dict[str, str] | None = None) -> Iterator[dict]:
    """Start ``celery worker`` as a child process on a private queue of the real Redis broker.

    Yields a dict with the queue name and the process; while it is open, tasks sent from this process
    go to that queue (not run in-process). The worker uses the test database.
    """
    from crm_site.celery import app

    need_service("Redis", port_open(TEST_REDIS_URL))
    queue = f"crm-test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "CRM_CELERY_WORKER": "1",
        **(extra_env or {}),
    }
    log_path = BASE_DIR / f".worker-{queue}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm_site",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--pool",
            "prefork" if concurrency > 1 else "solo",
            "--concurrency",
            str(concurrency),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {
        key: app.conf[key]
        for key in ("task_always_eager", "broker_url", "result_backend", "task_default_queue")
    }
    app.conf.update(
        task_always_eager=False,
        broker_url=TEST_REDIS_URL,
        result_backend=TEST_REDIS_URL,
        task_default_queue=queue,
    )
    _forget_connections(app)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{log_path.read_text(errors='replace')[-4000:]}")
            if b"ready." in log_path.read_bytes():
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"worker not ready in 60s:\n{log_path.read_text(errors='replace')[-4000:]}")
        yield {"queue": queue, "process": process, "log_path": log_path}
    finally:
        app.conf.update(saved)
        _forget_connections(app)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        log_path.unlink(missing_ok=True)
