"""A Celery worker on the bench's own broker, for the steps that time what a deployment's worker does."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench._memory import TreeMemory

ROOT = Path(__file__).resolve().parent.parent
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "2"))


@contextlib.contextmanager
def celery_worker() -> Iterator[TreeMemory]:
    """A Celery worker on the bench's broker, answering pings, with its memory sampled until exit."""
    from crm_site.celery import app

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm_site", "worker", "--pool", "prefork",
         "--concurrency", str(WORKER_CONCURRENCY), "--without-heartbeat", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING", "--hostname", f"bench-profiles-{os.getpid()}@%h"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    memory = TreeMemory(worker.pid)
    try:
        deadline = time.monotonic() + 120
        while not app.control.ping(timeout=1.0):  # connected and consuming before the clock starts
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bench's Celery worker did not start")
        memory.start()
        yield memory
    finally:
        if memory.is_alive():
            memory.stop()
        worker.terminate()
        worker.wait(timeout=120)
