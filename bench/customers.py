"""Customers benchmark: seed N customers on PostgreSQL, time the pages, then a 100,000-row import.

Runs in child processes with DATABASE_URL pointing at the benchmark's own database, so the numbers are
the server time of real requests (Django test client: URL routing, middleware, views, templates,
queries). Results replace the customers section of docs/benchmarks.md.

Environment: BENCH_CUSTOMERS_DATABASE_URL (default below), BENCH_CUSTOMERS_IMPORT_ROWS (default 100000,
0 skips the import benchmark, which runs in a separate database ``<name>_import``).
"""

from __future__ import annotations

import datetime
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench._sections import machine, section_read, section_write

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_customers"


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_SETTINGS", "crm_site.settings.local"),
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    }


def run(args) -> None:
    url = args.database_url or os.environ.get("BENCH_CUSTOMERS_DATABASE_URL", DEFAULT_URL)
    manage = [sys.executable, str(ROOT / "manage.py")]
    seeding = ""
    if not args.skip_seed:
        _create_database(url)
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=_env(url), check=True, cwd=ROOT)
        seed = [
            "seed_demo",
            "--customers",
            str(args.customers),
            "--only",
            "customers",
            "--batch-size",
            "50000",
        ]
        started = time.perf_counter()
        subprocess.run([*manage, *seed], env=_env(url), check=True, cwd=ROOT)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        seeding = (
            f"Seeding {args.customers:,} customers (`seed_demo --only customers --batch-size 50000`, "
            f"with their contact methods, addresses, tags and relationships): {seconds:.0f} s, "
            f"{args.customers / seconds:,.0f} customers/s, "
            f"peak memory of the seeding process {peak:.0f} MB.\n\n"
        )
    pages = _child(url, "main", str(args.repeat))
    print(pages)
    import_rows = int(os.environ.get("BENCH_CUSTOMERS_IMPORT_ROWS", "100000"))
    imports = ""
    if import_rows:
        import_url = urlsplit(url)._replace(path=urlsplit(url).path + "_import").geturl()
        _create_database(import_url)
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=_env(import_url), check=True, cwd=ROOT)
        users = [
            *manage,
            "shell",
            "-c",
            "from crm_site.accounts import demo_users_ensure; demo_users_ensure()",
        ]
        subprocess.run(users, env=_env(import_url), check=True, cwd=ROOT)
        imports = _child(import_url, "import_main", str(import_rows))
        print(imports)
    _record(pages, imports, seeding, args.customers if not args.skip_seed else _count(url))


def _child(url: str, function: str, argument: str) -> str:
    code = f"from bench._customers_measure import {function}; {function}()"
    output = subprocess.run(
        [sys.executable, "-c", code, argument],
        env=_env(url),
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return output.stdout.strip()


def _count(url: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as connection:
        return connection.execute("SELECT count(*) FROM customers_customer").fetchone()[0]


def _create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _record(pages: str, imports: str, seeding: str, customers: int) -> None:
    previous_seeding = ""
    if not seeding:
        # Pages re-measured on an already seeded database: keep the seeding figure from the run that seeded.
        previous_seeding = next(
            (line + "\n\n" for line in section_read("customers").splitlines() if line.startswith("Seeding ")),
            "",
        )
    body = (
        f"## Customers list, search and detail ({customers:,} customers, PostgreSQL)\n\n"
        f"Run {datetime.date.today().isoformat()} on {machine()} at the end "
        "(the machine is shared with other jobs),\n"
        "with `make bench BENCH_ARGS='--only customers'`.\n\n"
        f"{seeding or previous_seeding}"
        "Server time per request (Django test client in-process, warm database cache), milliseconds; "
        "CPU = the web process's own CPU time (load-independent; excludes the database server). "
        "Target: p95 under 150 ms.\n\n"
        f"{pages}\n\n"
        + (
            f"### Import of a generated CSV (same services as the import pages)\n\n{imports}\n"
            if imports
            else ""
        )
    )
    section_write("customers", body)
