"""Profiles benchmark: what a deployment pays for the profile rebuild and for event ingestion.

For each size (BENCH_PROFILES_SIZES, default "100000,1000000" customers; ~2 orders and 10 events each):
seed once, then in fresh child processes measure
  1. bare: reading every input row into frames (the rebuild's own readers), then run_pipeline on them,
  2. rebuild: "Rebuild now" on a Celery worker (prefork, BENCH_WORKER_CONCURRENCY processes) until the
     run is published, the segments recounted and the oldest retained run deleted. The table holds what
     it holds in production before the clock starts: the active run plus the KEEP_RUNS runs kept after it
     (step "retained", untimed, tops it up by copying the active run's rows),
  3. ingest: event batches of 1,000 POSTed to gunicorn, each batch's profile refresh done by that worker;
     timed until the last refresh has finished,
with the peak memory of the whole worker (parent + pool processes, RSS and PSS sampled from /proc).
Database: --database-url, else BENCH_PROFILES_DATABASE_URL, else postgres://.../crm_bench_profiles.
Redis: one database of the bench's own (bench/_broker.py; refused when it holds anyone else's keys).
Results replace the profiles section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench import _broker as broker
from bench._profiles_ingest import ingest
from bench._profiles_retained import retained
from bench._sections import machine, section_write
from bench._worker import WORKER_CONCURRENCY, celery_worker
from bench.profiles_seed import seed
from bench.search import _create_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_profiles"
# The steps that talk to the broker; the others run with none (tasks in-process, nothing queued).
BROKER_STEPS = ("workers", "ingest")
OWNER_ENV = "BENCH_BROKER_OWNER"


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
        "DJANGO_DEBUG": "false",
        "DJANGO_MEDIA_ROOT": os.environ.get("BENCH_MEDIA_ROOT", "/tmp/crm-bench-profiles-media"),
    }
    # Created on a fresh machine; an existing one is kept (each size reseeds its own tables, and
    # --skip-seed reuses them).
    _create_database(url, keep_existing=True)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v0"],
        env={**env, "CELERY_BROKER_URL": ""},
        check=True,
    )
    env[OWNER_ENV] = broker.claim()
    rows = []
    try:
        for position, size in enumerate(sizes):
            if not args.skip_seed:
                seeded = _child("seed", size, env)
                print(f"profiles bench: seeded {size} customers in {seeded['seconds']:.0f}s", flush=True)
            bare = _child("bare", size, env)
            retained = _child("retained", size, env)
            steps = {"bare": bare, "retained": retained}
            if os.environ.get("BENCH_PROFILES_SYNC"):  # also the single-process `rebuild_profiles --sync`
                steps["sync"] = _child("rebuild", size, env)
            steps["rebuild"] = full = _child("workers", size, env)
            # Ingestion does not depend on the table size much: measured once, on the first size.
            ingest = _child("ingest", size, env) if position == 0 else None
            if ingest:
                steps["ingest"] = ingest
            rows.append((size, steps))
            print(f"profiles bench {size}: {json.dumps(steps)}", flush=True)
            if full["status"] != "succeeded":
                raise RuntimeError(f"the rebuild at {size} did not succeed: {full['error']}")
    finally:
        foreign = broker.release()
        if foreign:
            print(f"profiles bench: left foreign Redis keys alone: {foreign}", flush=True)
    _report(rows, url)


def _report(rows: list, url: str) -> None:
    keep = rows[0][1]["retained"]["keep"] if rows else "the"
    lines = [
        f"## Profile rebuild and event ingestion ({datetime.date.today()}, {url.split(':')[0]})",
        "",
        f"Machine: {machine()} (at the end of the run).",
        "",
        "`make bench BENCH_ARGS='--only profiles'` (this section is rewritten by each run; notes follow it).",
        "Each step in a fresh process. *read* + *bare* = the rebuild's own readers into frames, then",
        '`run_pipeline` on them in memory. *rebuild* = "Rebuild now" on a Celery worker '
        f"(`--pool prefork --concurrency {WORKER_CONCURRENCY}`)",
        "until the run is published, the segments recounted and the oldest retained run deleted; before the",
        f"clock starts the table holds the active run and the {keep} runs kept after it (`KEEP_RUNS`), as in",
        "production (*of which prune* = deleting that oldest run). *worker peak* = the peak of the sum over",
        "the worker's parent and pool processes, sampled every 0.5 s from /proc: RSS (counts pages shared",
        "after fork once per process: an upper bound) and PSS (shared pages split: what the machine pays).",
        "*ingest*: batches of 1,000 events POSTed to gunicorn (2 sync workers, DEBUG off, bearer token),",
        "each batch's profile refresh queued to and done by the same Celery worker; *accepted* = answered",
        "over HTTP, *refreshed* = until the worker had finished every batch's refresh.",
        "Targets: rebuild ≤ 2 × (read + bare), 1M customers < 10 min and < 4 GB; ingestion ≥ 5,000 events/s.",
        "",
        "| customers | events | order lines | read s | bare s | profiles in table | rebuild s | "
        "of which prune s | ratio | worker peak RSS / PSS MB | profiles written/s | "
        "ingest accepted / refreshed events/s | ingest worker peak RSS / PSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, steps in rows:
        bare, full, ingest = steps["bare"], steps["rebuild"], steps.get("ingest")
        ratio = full["seconds"] / max(bare["read"] + bare["compute"], 1e-9)
        rates = memory = "–"
        if ingest:
            rates = f"{ingest['accepted_per_s']:,.0f} / {ingest['events_per_s']:,.0f}"
            memory = f"{ingest['peak_rss_mb']:,.0f} / {ingest['peak_pss_mb']:,.0f}"
        lines.append(
            f"| {size:,} | {bare['events']:,} | {bare['orders']:,} | {bare['read']:.1f} | "
            f"{bare['compute']:.1f} | {full['profiles_before']:,} | {full['seconds']:.1f} | "
            f"{full['prune_seconds']:.1f} | {ratio:.2f} | "
            f"{full['peak_rss_mb']:,.0f} / {full['peak_pss_mb']:,.0f} | {full['rows_per_s']:,.0f} | "
            f"{rates} | {memory} |"
        )
    for size, steps in rows:
        if "sync" in steps:
            lines += ["", f"Single-process rebuild (`--sync`) at {size:,}: {steps['sync']['seconds']:.1f} s."]
        if "ingest" in steps:
            ingest = steps["ingest"]
            lines += [
                "",
                f"Ingestion at {size:,}: {ingest['events']:,} events in {ingest['batches']} batches, "
                f"accepted in {ingest['accepted_seconds']:.1f} s, every refresh done after "
                f"{ingest['seconds']:.1f} s "
                f"({ingest['refreshes']} refresh tasks, {ingest['failed']} failed).",
            ]
    for size, steps in rows:
        lines += quality_lines(size, steps["rebuild"].get("quality") or {})
    section_write("profiles", "\n".join(lines))


def _score(value: object, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "–"


def _share(value: object) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else "–"


def quality_lines(size: int, quality: dict) -> list[str]:
    """The Markdown lines of one size's model quality: churn scores (served one marked), the forecast's
    and offers' evaluation against their baselines, and the stability against the previous run. A part
    the run did not record is left out (an older pipeline, or data too thin for a holdout)."""
    churn = quality.get("churn") or {}
    evaluation = quality.get("evaluation") or {}
    stability = quality.get("stability") or {}
    scores = churn.get("scores") or {}
    lines: list[str] = []
    if scores:
        window = churn.get("window_days")
        lines += [
            "",
            f"Churn scores at {size:,} (held-out snapshot, no purchase in {window or '?'} days; "
            f"calibration {churn.get('calibration') or '–'}; "
            f"beats recency alone: {'yes' if churn.get('beats_baseline') else 'no'}):",
            "",
            "| scored by | ROC AUC | Brier | log loss |",
            "|---|---:|---:|---:|",
        ]
        for key in ("model", "bgnbd", "recency", "overall_rate"):
            if isinstance(scores.get(key), dict):
                served = " (served)" if churn.get("served") == key else ""
                row = scores[key]
                lines.append(
                    f"| {key}{served} | {_score(row.get('roc_auc'))} | {_score(row.get('brier'))} | "
                    f"{_score(row.get('log_loss'))} |"
                )
    forecast, offers = evaluation.get("forecast"), evaluation.get("offers")
    if isinstance(forecast, dict) and isinstance(forecast.get("mae"), dict):
        mae = forecast["mae"]
        lines += [
            "",
            f"Forecast at {size:,}: mean absolute error of purchases in {forecast.get('horizon_days')} "
            f"days over {forecast.get('n_customers', 0):,} customers: model {_score(mae.get('model'))}, "
            f"same rate {_score(mae.get('same_rate'))}, zero {_score(mae.get('zero'))}; "
            f"served {forecast.get('served')}.",
        ]
    if isinstance(offers, dict) and isinstance(offers.get("hit_rate"), dict):
        hit = offers["hit_rate"]
        lines += [
            "",
            f"Next best offers at {size:,}: hit rate over {offers.get('n_customers', 0):,} customers: "
            f"rules {_share(hit.get('model'))}, most popular {_share(hit.get('popular'))}; "
            f"served {offers.get('served')}.",
        ]
    if stability:
        moved = stability.get("moved") or {}
        lines += [
            "",
            f"Stability at {size:,} against the previous run: {stability.get('compared', 0):,} customers "
            f"compared, {stability.get('new_customers', 0):,} new; moved: churn band "
            f"{_share(moved.get('churn_band'))}, RFM segment {_share(moved.get('rfm_segment'))}, cluster "
            f"{_share(moved.get('cluster'))} (target < 5% when < 1% of the data changed).",
        ]
    return lines


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


def _rebuild_workers() -> dict:
    """The production path, timed: "Rebuild now" queues the run; the worker fits it, fans the chunk writes
    out over its processes, publishes, recounts the segments and deletes the oldest retained run."""
    from profiles.models import CustomerProfile, ProfileRun, RebuildLock
    from profiles.services.rebuild import KEEP_RUNS, profile_rebuild_start

    RebuildLock.objects.all().delete()
    profiles_before = CustomerProfile.objects.count()
    finished = ProfileRun.objects.filter(status__in=[ProfileRun.Status.SUCCEEDED, ProfileRun.Status.FAILED])
    with celery_worker() as memory:
        started = time.perf_counter()
        run = profile_rebuild_start(trigger="command")
        # Until published and the segments recounted (the lock is released after that) ...
        while run.status != ProfileRun.Status.FAILED and (
            run.status != ProfileRun.Status.SUCCEEDED or RebuildLock.objects.filter(run=run).exists()
        ):
            time.sleep(0.2)
            run.refresh_from_db()
        published = time.perf_counter() - started
        # ... and the runs beyond KEEP_RUNS deleted (the same task prunes right after releasing the lock).
        while run.status == ProfileRun.Status.SUCCEEDED and finished.count() > KEEP_RUNS + 1:
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        peak = memory.stop()
    written = run.counts.get("profiles", 0)
    write_seconds = (run.finished_at - run.fitted_at).total_seconds() if run.fitted_at else seconds
    return {
        "seconds": seconds,
        "published_seconds": published,
        "prune_seconds": seconds - published,
        **peak,
        "profiles_before": profiles_before,
        "profiles_after": CustomerProfile.objects.count(),
        "profiles": written,
        "rows_per_s": written / max(write_seconds, 1e-9),
        "status": run.status,
        "error": run.error[-2000:],
        "timings": run.timings,
        "workers": WORKER_CONCURRENCY,
        # What the run measured of its models against the baselines, and how much moved since the run it
        # replaced (issue 14): recorded beside the timings.
        "quality": {key: (run.metrics or {}).get(key) for key in ("churn", "evaluation", "stability")},
    }


def _broker_environ(step: str) -> None:
    """The broker steps use the bench's Redis database for the queue, results and cache; the others none."""
    if step in BROKER_STEPS:
        for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
            os.environ[name] = broker.BROKER_URL
    else:
        os.environ["CELERY_BROKER_URL"] = ""
        for name in ("CELERY_RESULT_BACKEND", "CACHE_URL"):
            os.environ.pop(name, None)


if __name__ == "__main__":
    import django

    step, size = sys.argv[1], int(sys.argv[2])
    _broker_environ(step)
    # A step run alone (`python -m bench.profiles ingest N`) claims the Redis database itself.
    claimed = step in BROKER_STEPS and not broker.owned(os.environ.get(OWNER_ENV))
    if claimed:
        broker.claim()
    django.setup()
    if step not in BROKER_STEPS:
        # Seeding and the in-process rebuilds queue nothing: no refresh signal outside the broker steps.
        from crm_site.signals import customer_activity

        customer_activity.receivers = []
    try:
        result = {
            "seed": lambda: seed(size),
            "bare": _bare,
            "retained": retained,
            "rebuild": _rebuild,
            "workers": _rebuild_workers,
            "ingest": lambda: ingest(size),
        }[step]()
    finally:
        if claimed:
            broker.release()
    print(json.dumps(result, default=str))
