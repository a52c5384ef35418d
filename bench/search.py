"""Global search benchmark: seed N customers with their orders on PostgreSQL, then time /search/ over HTTP.

The server is ``gunicorn crm_site.wsgi`` (one sync worker, DEBUG off) on 127.0.0.1 in front of the
benchmark's own database; the client (a child process with Django configured, for the sessions and the
queries' inputs) sends each query ``--repeat`` times over a keep-alive connection as ``sales1`` (who owns
half the customers), ``manager`` and, for the issue's queries, ``service``. Results replace the search
section of docs/benchmarks.md.

Environment: BENCH_SEARCH_DATABASE_URL (default below), BENCH_SEARCH_PORT (default 8765).
``make bench BENCH_ARGS='--only search --customers 200000'`` for a run that fits a few minutes.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_search"
MARKER = "<!-- search-bench -->"


def run(args) -> None:
    url = args.database_url or os.environ.get("BENCH_SEARCH_DATABASE_URL", DEFAULT_URL)
    port = int(os.environ.get("BENCH_SEARCH_PORT", "8765"))
    manage = [sys.executable, str(ROOT / "manage.py")]
    env = _env(url)
    seeding = ""
    if not args.skip_seed:
        _create_database(url)
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
        started = time.perf_counter()
        seed = ["seed_demo", "--customers", str(args.customers), "--only", "customers", "orders"]
        subprocess.run([*manage, *seed, "--batch-size", "50000"], env=env, check=True, cwd=ROOT)
        seeding = (
            f"Seeded {args.customers:,} customers with their orders, tickets, projects and opportunities "
            f"(`seed_demo --only customers orders`) in {time.perf_counter() - started:.0f} s.\n\n"
        )
    else:
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
    sizes = _sizes(url)
    table = measured_over_http(env=env, port=port, measure="bench._search_measure", repeat=args.repeat)
    print(table)
    _record(table, seeding, sizes)


def measured_over_http(*, env: dict[str, str], port: int, measure: str, repeat: int, workers: int = 1) -> str:
    """Serve the site with gunicorn (``workers`` sync workers, default one) on ``port``, run
    ``<measure>.main()`` in a child process (argv: port, repeat) against it, stop the server; the child's
    output (a Markdown table)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "crm_site.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        _wait_for(port)
        output = subprocess.run(
            [sys.executable, "-c", f"from {measure} import main; main()", str(port), str(repeat)],
            env=env, check=True, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    return output.stdout.strip()


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_SETTINGS", "crm_site.settings.local"),
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    }


def _create_database(url: str, *, keep_existing: bool = False) -> None:
    """A fresh, empty database at ``url``; with ``keep_existing`` an existing one is left as it is."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if keep_existing and exists is not None:
            return
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _machine() -> str:
    cpu, memory_kb, load = "", 0, ["?"]
    try:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")),
            "",
        )  # fmt: skip
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 1024 / 1024:.0f} GB RAM, {platform.platform()}; "
        f"load average at the end {' '.join(load)} (the machine is shared with other jobs)"
    )


def _wait_for(port: int) -> None:
    for _attempt in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def _sizes(url: str) -> str:
    import psycopg

    tables = {
        "customers": "customers_customer",
        "contact methods": "customers_contactmethod",
        "sales orders": "orders_salesorder",
        "tickets": "orders_serviceorder",
        "projects": "orders_project",
        "opportunities": "orders_opportunity",
    }

    def one(connection: Any, sql: str) -> Any:
        row = connection.execute(sql).fetchone()
        return row[0] if row else None

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as connection:
        # The bench's own fixed table names, not input.
        counts = {label: one(connection, f"SELECT count(*) FROM {table}") for label, table in tables.items()}
        version = one(connection, "SHOW server_version")
    return ", ".join(f"{count:,} {label}" for label, count in counts.items()) + f"; PostgreSQL {version}"


def _record(table: str, seeding: str, sizes: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = (
        f"{MARKER}\n## Global search over HTTP ({sizes})\n\n"
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {_machine()},\n"
        "with `make bench BENCH_ARGS='--only search ...'`.\n\n"
        f"{seeding}"
        "Wall time per `GET /search/?q=...` to gunicorn (one sync worker, DEBUG off) over a keep-alive "
        "connection, after 3 warm-up requests, milliseconds; *CPU* = the web process's own CPU time for the "
        "same request (test client in the client process: load-independent, excludes PostgreSQL's work); "
        "*kinds found* = groups on the page. "
        "Target: p95 under 150 ms at 1,000,000 customers.\n\n"
        f"{table}\n"
        f"{MARKER}-end\n"
    )
    if MARKER in text:
        start = text.index(MARKER)
        end = text.index(f"{MARKER}-end") + len(f"{MARKER}-end\n")
        text = text[:start] + section + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
