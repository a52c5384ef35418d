"""Profiles benchmark: the full rebuild vs. reading the inputs + the bare pandas/scikit-learn computation.

For each size (BENCH_PROFILES_SIZES, default "100000,1000000" customers; ~2 orders and 10 events each):
seed once, then in fresh child processes measure
  1. read: the time to read every input row from the database into frames (the rebuild's own readers),
  2. bare: run_pipeline on those frames already in memory,
  3. rebuild: the whole profile_rebuild_sync (read + fit + stage + write chunks + publish),
with peak RSS of each child, and event ingestion through POST /api/events/ (batches of 1,000).
Database: --database-url, else BENCH_PROFILES_DATABASE_URL, else postgres://.../crm_bench_profiles.
Results are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.profiles_seed import seed

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_profiles"


def _child(step: str, size: int, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.profiles", step, str(size)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench step {step} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(args) -> None:
    url = args.database_url or os.environ.get("BENCH_PROFILES_DATABASE_URL", DEFAULT_URL)
    sizes = [int(s) for s in os.environ.get("BENCH_PROFILES_SIZES", "100000,1000000").split(",") if s]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.local",
        "DJANGO_MEDIA_ROOT": os.environ.get("BENCH_MEDIA_ROOT", "/tmp/crm-bench-profiles-media"),
    }
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v0"], env=env, check=True
    )
    rows = []
    for position, size in enumerate(sizes):
        if not args.skip_seed:
            seeded = _child("seed", size, env)
            print(f"profiles bench: seeded {size} customers in {seeded['seconds']:.0f}s", flush=True)
        bare = _child("bare", size, env)
        # The rebuild as deployed: a Celery worker with one process per core (BENCH_WORKER_CONCURRENCY).
        full = _child("workers", size, env)
        steps = {"bare": bare, "rebuild": full}
        if os.environ.get("BENCH_PROFILES_SYNC"):  # also the single-process `rebuild_profiles --sync`
            steps["sync"] = _child("rebuild", size, env)
        # Ingestion does not depend on the table size much: measured once, on the first size.
        ingest = _child("ingest", size, env) if position == 0 else None
        if ingest:
            steps["ingest"] = ingest
        rows.append((size, bare, full, ingest))
        print(f"profiles bench {size}: {json.dumps(steps)}", flush=True)
    _report(rows, url)


def _report(rows: list, url: str) -> None:
    lines = [
        "",
        "<!-- profiles-bench -->",
        f"## Profile rebuild ({datetime.date.today()}, {platform.node()}, {os.cpu_count()} CPUs, "
        f"{url.split(':')[0]})",
        "",
        "`make bench BENCH_ARGS='--only profiles'`. Each step in a fresh process; peak memory = max RSS (for",
        "the rebuild: of the largest process of the Celery worker it runs on, one process per core).",
        "Target: rebuild ≤ 2 × (read + bare), 1M customers < 10 min and < 4 GB; ingestion ≥ 5,000 events/s.",
        "",
        "| customers | events | order lines | read s | bare compute s | rebuild s | ratio | "
        "rebuild peak MB | profiles written/s | ingest events/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, bare, full, ingest in rows:
        ratio = full["seconds"] / max(bare["read"] + bare["compute"], 1e-9)
        cell = f"{ingest['events_per_s']:,.0f}" if ingest else "–"
        lines.append(
            f"| {size:,} | {bare['events']:,} | {bare['orders']:,} | {bare['read']:.1f} | "
            f"{bare['compute']:.1f} | "
            f"{full['seconds']:.1f} | {ratio:.2f} | {full['peak_mb']:.0f} | {full['rows_per_s']:,.0f} | "
            f"{cell} |"
        )
    lines += ["", "<!-- profiles-bench -->-end", ""]
    with open(ROOT / "docs" / "benchmarks.md", "a", encoding="utf-8") as out:
        out.write("\n".join(lines))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bare() -> dict:
    from django.utils import timezone

    from profiles.inputs import INPUT_NAMES, read_input
    from profiles.pipeline import PipelineInputs, run_pipeline
    from profiles.services.rebuild import pipeline_params

    as_of = timezone.now()
    # The machine is shared: CPU seconds of this process say what the code costs, wall time what it took.
    started, cpu = time.perf_counter(), time.process_time()
    frames, per_input = {}, {}
    for name in INPUT_NAMES:
        began = time.perf_counter()
        frames[name] = read_input(name, as_of=as_of)
        per_input[name] = round(time.perf_counter() - began, 1)
    read, read_cpu = time.perf_counter() - started, time.process_time() - cpu
    inputs = PipelineInputs(**{k: (v if len(v.columns) else None) for k, v in frames.items()})
    started, cpu = time.perf_counter(), time.process_time()
    outputs = run_pipeline(inputs, as_of=as_of, params=pipeline_params())
    compute, compute_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "read": read,
        "read_cpu": read_cpu,
        "read_by_input": per_input,
        "compute": compute,
        "compute_cpu": compute_cpu,
        "compute_by_step": outputs.timings,
        "events": len(frames["events"]),
        "orders": len(frames["orders"]),
        "peak_mb": _peak_mb(),
    }


def _rebuild() -> dict:
    from profiles.models import RebuildLock
    from profiles.services.rebuild import profile_rebuild_sync

    RebuildLock.objects.all().delete()
    started, cpu = time.perf_counter(), time.process_time()
    run = profile_rebuild_sync(trigger="command")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    written = run.counts.get("profiles", 0)
    write_seconds = (run.finished_at - run.fitted_at).total_seconds() if run.fitted_at else seconds
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": _peak_mb(),
        "profiles": written,
        "rows_per_s": written / max(write_seconds, 1e-9),
        "status": run.status,
        "timings": run.timings,
    }


WORKER_BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "2"))


def _flush_broker() -> None:
    """Drop what the bench queued on its own Redis database (refresh tasks nobody consumes)."""
    import redis

    redis.Redis.from_url(WORKER_BROKER).flushdb()


def _rebuild_workers() -> dict:
    """The production path: "Rebuild now" queues the run; a Celery worker (prefork, one process per core)
    fits it, fans the chunk writes out over its processes and publishes. Wall time until published;
    peak memory = the largest worker process."""
    from profiles.models import ProfileRun, RebuildLock
    from profiles.services.rebuild import profile_rebuild_start

    RebuildLock.objects.all().delete()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm_site", "worker", "--pool", "prefork",
         "--concurrency", str(WORKER_CONCURRENCY), "--without-heartbeat", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    try:
        time.sleep(5)  # let the worker connect before the clock starts
        started = time.perf_counter()
        run = profile_rebuild_start(trigger="command")
        # Until published and the segments recounted (the lock is released after that).
        while run.status != ProfileRun.Status.FAILED and (
            run.status != ProfileRun.Status.SUCCEEDED or RebuildLock.objects.filter(run=run).exists()
        ):
            time.sleep(0.5)
            run.refresh_from_db()
        seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=120)
    written = run.counts.get("profiles", 0)
    write_seconds = (run.finished_at - run.fitted_at).total_seconds() if run.fitted_at else seconds
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "profiles": written,
        "rows_per_s": written / max(write_seconds, 1e-9),
        "status": run.status,
        "error": run.error[-2000:],
        "timings": run.timings,
        "workers": WORKER_CONCURRENCY,
    }


INGEST_PORT = int(os.environ.get("BENCH_INGEST_PORT", "8106"))
INGEST_BATCHES = int(os.environ.get("BENCH_INGEST_BATCHES", "60"))


def _ingest(size: int) -> dict:
    """POST INGEST_BATCHES batches of 1,000 new events over HTTP to a gunicorn server (token auth).

    Server: `gunicorn crm_site.wsgi` with 2 sync workers (one per core) and DEBUG off, on 127.0.0.1;
    the client keeps 2 requests in flight (one per worker) from threads with keep-alive connections.
    """
    import http.client
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
    # As deployed: with a broker, each stored batch queues its customers' profile refresh for the workers
    # (none listen on the bench's Redis database; without a broker the refresh would run in the request).
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": WORKER_BROKER,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "crm_site.wsgi", "-w", "2", "-b", f"127.0.0.1:{INGEST_PORT}",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
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

        def post(body: str, conns: dict = {}) -> int:  # noqa: B006 - one connection per thread
            import threading

            conn = conns.setdefault(
                threading.get_ident(), http.client.HTTPConnection("127.0.0.1", INGEST_PORT, timeout=120)
            )
            conn.request("POST", "/api/events/", body=body.encode(), headers=headers)
            response = conn.getresponse()
            payload = response.read()
            if response.status != 200:
                raise RuntimeError(f"ingest answered {response.status}: {payload[:300]!r}")
            return json.loads(payload)["stored"]

        for _attempt in range(100):  # wait for the server
            try:
                post(bodies[0])
                break
            except OSError:
                time.sleep(0.2)
        post(bodies[1])  # warm the second worker's caches too
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            total = sum(pool.map(post, bodies[2:]))
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        _flush_broker()
    return {"events": total, "seconds": seconds, "events_per_s": total / seconds}


if __name__ == "__main__":
    import django

    # The refresh signal would queue a re-score per batch; the bench measures ingestion alone. Only the
    # "workers" step talks to a broker (its own Redis database, so no other worker takes its tasks).
    if sys.argv[1] == "workers":
        os.environ["CELERY_BROKER_URL"] = WORKER_BROKER
    else:
        os.environ.setdefault("CELERY_BROKER_URL", "")
    django.setup()
    from crm_site.signals import customer_activity

    customer_activity.receivers = []
    step, size = sys.argv[1], int(sys.argv[2])
    result = {
        "seed": lambda: seed(size),
        "bare": _bare,
        "rebuild": _rebuild,
        "workers": _rebuild_workers,
        "ingest": lambda: _ingest(size),
    }[step]()
    print(json.dumps(result, default=str))
