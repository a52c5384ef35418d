"""Customers benchmark: seed N customers on PostgreSQL, then time the list, searches, a deep page, the detail.

Runs in a child process with DATABASE_URL pointing at its own database, so the numbers are the server
time of real requests (Django test client: URL routing, middleware, views, templates, queries).
Results are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_customers"


def run(args) -> None:
    url = args.database_url or os.environ.get("BENCH_CUSTOMERS_DATABASE_URL", DEFAULT_URL)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": os.environ.get(
        "BENCH_SETTINGS", "crm_site.settings.local"), "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost"}  # fmt: skip
    manage = [sys.executable, str(ROOT / "manage.py")]
    if not args.skip_seed:
        _create_database(url)
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
        seed = [
            "seed_demo",
            "--customers",
            str(args.customers),
            "--only",
            "customers",
            "--batch-size",
            "10000",
        ]
        subprocess.run([*manage, *seed], env=env, check=True, cwd=ROOT)
    output = subprocess.run(
        [sys.executable, "-c", "from bench._customers_measure import main; main()", str(args.repeat)],
        env=env, check=True, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    print(output.stdout)
    _record(output.stdout, args.customers)


def _create_database(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        memory_kb = 0
    return f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 1024 / 1024:.0f} GB RAM, {platform.platform()}"


def _record(table: str, customers: int) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    marker = "<!-- customers-bench -->"
    section = (
        f"{marker}\n## Customers list, search and detail ({customers:,} customers, PostgreSQL)\n\n"
        f"Run {datetime.date.today().isoformat()} on {_machine()}\n"
        "with `make bench BENCH_ARGS='--only customers'`.\n"
        f"Server time per request (Django test client in-process, warm database cache), milliseconds.\n"
        f"Target: p95 under 150 ms.\n\n{table.strip()}\n{marker}-end\n"
    )
    if marker in text:
        start = text.index(marker)
        end = text.index(f"{marker}-end") + len(f"{marker}-end\n")
        text = text[:start] + section + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
