"""Orders benchmark: import throughput (order lines per second) of a generated CSV, all-or-nothing.

Runs in a child process against its own database (default: a fresh SQLite file; set
BENCH_ORDERS_DATABASE_URL for PostgreSQL). BENCH_ORDER_LINES sets the file size (default 500,000 lines).
The file has unknown customers (created on the fly), 1-4 lines per order, SKUs and categories.
Results replace the orders section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._sections import machine, section_write

ROOT = Path(__file__).resolve().parent.parent


def run(args) -> None:
    db_file = Path(tempfile.gettempdir()) / "crm-bench-orders.sqlite3"
    url = args.database_url or os.environ.get("BENCH_ORDERS_DATABASE_URL", f"sqlite:///{db_file}")
    if url.startswith("sqlite") and not args.skip_seed:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    # DEBUG off: with it on Django keeps every query's SQL text, a third of the time of a big insert.
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.local",
        "DJANGO_DEBUG": "0",
    }
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v0"], env=env, check=True
    )
    result = subprocess.run(
        [sys.executable, "-m", "bench.orders"], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    )
    line = result.stdout.strip().splitlines()[-1]
    print(line)
    section_write(
        "orders",
        f"## Orders import: the latest run ({datetime.date.today()}, {url.split(':')[0]})\n\n"
        f"`make bench BENCH_ARGS='--only orders'` (this section is rewritten by each run; notes follow it) "
        f"on {machine()} at the end.\n\n{line}",
    )


def _measure() -> None:
    import django

    django.setup()
    import random
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from orders.models import Product, ProductCategory
    from orders.services.catalog import product_category_create, product_create
    from orders.services.import_rows import row_source
    from orders.services.imports import orders_import

    lines = int(os.environ.get("BENCH_ORDER_LINES", "500000"))
    rng = random.Random(7)
    user, _created = get_user_model().objects.get_or_create(username="bench-importer", is_superuser=True)
    if not ProductCategory.objects.filter(code="bench-top").exists():
        top = product_category_create(name="Bench 基准", code="bench-top")
        for n in range(50):
            product_create(
                sku=f"BENCH-{n}", name=f"商品 Product {n}", unit_price=Decimal("9.90"), category=top
            )
    skus = list(Product.objects.filter(sku__startswith="BENCH-").values_list("sku", flat=True))
    path = Path(tempfile.gettempdir()) / f"crm-bench-orders-{lines}.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            "customer_external_id,customer_name,order_number,order_date,sku,category,quantity,amount,channel\n"
        )
        written, order = 0, 0
        stamp = int(time.time())
        while written < lines:
            order += 1
            customer = f"BENCH-C{rng.randrange(lines // 8 + 1)}"
            day = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(700))
            for _line in range(min(1 + rng.randrange(4), lines - written)):
                amount = Decimal(rng.randrange(100, 100000)) / 100
                sku = rng.choice(skus)
                out.write(
                    f"{customer},客户 {customer},B{stamp}-{order},{day},{sku},,"
                    f"{rng.randrange(1, 4)},{amount},app\n"
                )
                written += 1
    started, cpu_started = time.perf_counter(), time.process_time()
    profile_to = os.environ.get("BENCH_PROFILE")  # a path: write cProfile stats there
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    marks: dict[str, float] = {}
    batches: list[tuple[float, int]] = []

    def progress(phase: str, done: int, total: int) -> None:
        marks.setdefault(phase, time.perf_counter())
        if phase == "writing" and done:
            batches.append((time.perf_counter(), done))

    result = orders_import(
        rows=row_source(path, path.name), user=user, dry_run=False, create_customers=True, progress=progress
    )
    seconds = time.perf_counter() - started
    if profile_to:
        profiler.disable()
        profiler.dump_stats(profile_to)
    path.unlink(missing_ok=True)
    assert result.error_count == 0, result.errors[:5]
    import resource

    check = marks["writing"] - started
    write = seconds - check
    # Lines alone: from the first written batch of lines to the last (customers and orders come before).
    (first_at, first_done), (last_at, last_done) = batches[0], batches[-1]
    line_rate = (last_done - first_done) / max(last_at - first_at, 1e-9)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{result.lines:,} order lines ({result.orders:,} orders, {result.customers_created:,} new "
        f"customers) imported in {seconds:.1f}s: {result.lines / seconds:,.0f} lines/s overall; "
        f"check phase {check:.1f}s ({result.lines / check:,.0f} lines/s); write phase {write:.1f}s "
        f"({result.lines / write:,.0f} lines/s incl. customers and orders; order lines alone "
        f"{line_rate:,.0f} lines/s); CPU {time.process_time() - cpu_started:.1f}s; "
        f"peak memory {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    _measure()
