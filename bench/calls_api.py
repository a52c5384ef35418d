"""Calls API benchmark: call records/s over HTTP in batches of 500, and events/s on both events paths.

Seeds N customers (``seed_demo --only customers``: each with a mobile number) into its own PostgreSQL
database, then serves the site with gunicorn (one sync worker, DEBUG off) and, from a child process,
POSTs batches of 500 call records to ``/api/v1/calls/`` as ``service`` and as ``sales1`` and batches of
1,000 events to ``/api/v1/events/`` and ``/api/events/`` in turn (``bench._calls_api_measure``). The web
process queues the events' profile refresh on the bench's own Redis database (never run: the events
figure is the API's, as in the profiles bench's ingestion note); the throttle counts there too, at a
rate the bench does not reach. Results replace the calls-api section of docs/benchmarks.md.

``make bench BENCH_ARGS='--only calls_api --customers 100000'``; environment: BENCH_CALLS_DATABASE_URL,
BENCH_CALLS_PORT (8767), BENCH_CALLS_BROKER_URL (default ``redis://127.0.0.1:6379/12``: refused when it
holds keys; only the bench's own keys are deleted afterwards). ``--repeat`` = measured call batches per
token (default 30: 15,000 records).
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time

from bench._broker import OWN_PATTERNS
from bench._sections import section_write
from bench.search import ROOT, _create_database, _env, _machine, measured_over_http

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_calls"
DEFAULT_BROKER = "redis://127.0.0.1:6379/12"


def run(args) -> None:
    import redis

    url = args.database_url or os.environ.get("BENCH_CALLS_DATABASE_URL", DEFAULT_URL)
    port = int(os.environ.get("BENCH_CALLS_PORT", "8767"))
    broker = os.environ.get("BENCH_CALLS_BROKER_URL", DEFAULT_BROKER)
    client = redis.Redis.from_url(broker)
    if client.dbsize():
        raise SystemExit(f"{broker} holds keys the bench did not write: set BENCH_CALLS_BROKER_URL")
    manage = [sys.executable, str(ROOT / "manage.py")]
    env = {
        **_env(url),
        "CELERY_BROKER_URL": broker,
        "API_TOKEN_THROTTLE_RATE": "1000000/minute",
    }
    seeding = ""
    if not args.skip_seed:
        _create_database(url)
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
        started = time.perf_counter()
        seed = ["seed_demo", "--customers", str(args.customers), "--only", "customers"]
        subprocess.run([*manage, *seed, "--batch-size", "50000"], env=env, check=True, cwd=ROOT)
        seeding = (
            f"Seeded {args.customers:,} customers (`seed_demo --only customers`) in "
            f"{time.perf_counter() - started:.0f} s.\n\n"
        )
    else:
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
    measure = "bench._calls_api_measure"
    try:
        table = measured_over_http(env=env, port=port, measure=measure, repeat=args.repeat)
        # Both cores, as the profiles bench's ingestion: two workers, two requests in flight.
        parallel = measured_over_http(
            env={**env, "BENCH_CALLS_CLIENTS": "2"}, port=port, measure=measure, repeat=args.repeat, workers=2
        )
    finally:
        for pattern in OWN_PATTERNS:
            for key in list(client.scan_iter(match=pattern, count=1000)):
                client.delete(key)
    print(table)
    print(parallel)
    section_write(
        "calls-api",
        f"## Calls API over HTTP ({args.customers:,} customers, PostgreSQL)\n\n"
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {_machine()},\n"
        "with `make bench BENCH_ARGS='--only calls_api ...'`.\n\n"
        f"{seeding}"
        "gunicorn `crm_site.wsgi`, one sync worker, DEBUG off; one client, one keep-alive connection, "
        "requests one after another after 2 warm-up batches. *records/s* = records of the measured "
        "requests / their summed wall time; *CPU ms* = the web process's own CPU time for the same kind of "
        "request (median of 5 through the test client in the measuring process: independent of the load, "
        "leaves out PostgreSQL's work), and *records per CPU second* what one core could take at that cost. "
        "Calls: 80% numbers of customers the token's user may see, in "
        "four spellings, 20% unknown (parked in the unmatched inbox), each with its own external id; "
        "`service` reads every customer, `sales1` owns half of them (the visibility rule on every "
        "candidate). Events: batches of 1,000 new events on the two paths in turn, the profile refresh "
        "queued, not run. Target: 2,000 call records/s in batches of 500; events no slower on "
        "`/api/v1/events/` than on `/api/events/` (5,000 events/s with 2 workers in the profiles "
        "bench).\n\n"
        f"{table}\n\n"
        "The same with two gunicorn workers and two client threads with a keep-alive connection each "
        "(every record new; records stored / wall time from the first request to the last answer):\n\n"
        f"{parallel}\n",
    )
