"""Customer timeline benchmark: one customer with 50,000 entries among N customers, pages timed over HTTP.

Seeds N customers (``seed_demo --only customers``) into its own PostgreSQL database, then gives one
customer of ``sales1`` ``BENCH_TIMELINE_ENTRIES`` interactions (default 50,000) plus 2% as many sales
orders, tickets and profile changes, bulk-written, spread over five years. The server is gunicorn (one
sync worker, DEBUG off); the client times ``GET /customers/<id>/timeline/`` for: the newest page, a page
1,000 entries deep (its cursor), a page filtered to one kind (tickets; profile changes), and "jump to a
date" three years back, as ``sales1`` (the owner) and ``manager``. The page's cost must not grow with the
history: each source answers one keyset query on its (customer, time) index. Results replace the timeline
section of docs/benchmarks.md.

``make bench BENCH_ARGS='--only timeline --customers 200000'``; environment: BENCH_TIMELINE_DATABASE_URL,
BENCH_TIMELINE_PORT (8766), BENCH_TIMELINE_ENTRIES.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time

from bench._sections import section_write
from bench.search import ROOT, _create_database, _env, _machine, measured_over_http

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_timeline"


def run(args) -> None:
    url = args.database_url or os.environ.get("BENCH_TIMELINE_DATABASE_URL", DEFAULT_URL)
    port = int(os.environ.get("BENCH_TIMELINE_PORT", "8766"))
    entries = int(os.environ.get("BENCH_TIMELINE_ENTRIES", "50000"))
    manage = [sys.executable, str(ROOT / "manage.py")]
    env = _env(url)
    seeding = ""
    if not args.skip_seed:
        _create_database(url)
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
        started = time.perf_counter()
        seed = [
            "seed_demo",
            "--customers",
            str(args.customers),
            "--only",
            "customers",
            "--batch-size",
            "50000",
        ]
        subprocess.run([*manage, *seed], env=env, check=True, cwd=ROOT)
        code = "from bench._timeline_measure import seed_history; seed_history()"
        subprocess.run([sys.executable, "-c", code, str(entries)], env=env, check=True, cwd=ROOT)
        took = time.perf_counter() - started
        seeding = (
            f"Seeded {args.customers:,} customers (`seed_demo --only customers`) and one customer's "
            f"{entries:,} interactions with its orders, tickets and profile changes in {took:.0f} s.\n\n"
        )
    table = measured_over_http(env=env, port=port, measure="bench._timeline_measure", repeat=args.repeat)
    print(table)
    section_write(
        "timeline",
        f"## Customer timeline over HTTP ({args.customers:,} customers; one with {entries:,} "
        "interactions)\n\n"
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {_machine()},\n"
        "with `make bench BENCH_ARGS='--only timeline ...'`.\n\n"
        f"{seeding}"
        "Wall time per `GET /customers/<id>/timeline/` to gunicorn (one sync worker, DEBUG off) over a "
        "keep-alive connection, after 3 warm-up requests, milliseconds; *queries* = SQL queries of the "
        "request (Django test client in the measuring process). Target: p95 under 100 ms at 1,000,000 "
        "customers.\n\n"
        f"{table}\n",
    )
