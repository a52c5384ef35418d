"""Orders benchmark: import throughput (order lines per second) of a generated CSV, all-or-nothing.

Runs in a child process against its own database (default: a fresh SQLite file; set
BENCH_ORDERS_DATABASE_URL for PostgreSQL). BENCH_ORDER_LINES sets the file size (default 500,000 lines).
The file has unknown customers (created on the fly), 1-4 lines per order, SKUs and categories.
Results are appended to docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args) -> None:
    db_file = Path(tempfile.gettempdir()) / "crm-bench-orders.sqlite3"
    url = args.database_url or os.environ.get("BENCH_ORDERS_DATABASE_URL", f"sqlite:///{db_file}")
    if url.startswith("sqlite") and not args.skip_seed:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "crm_site.settings.local"}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--no-input", "-v0"], env=env, check=True
    )
    result = subprocess.run(
        [sys.executable, "-m", "bench.orders"], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    )
    line = result.stdout.strip().splitlines()[-1]
    print(line)
    with open(ROOT / "docs" / "benchmarks.md", "a", encoding="utf-8") as out:
        out.write(
            f"\n## Orders import ({datetime.date.today()}, {platform.node()}, {url.split(':')[0]})"
            f"\n\n{line}\n"
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
    started = time.perf_counter()
    result = orders_import(rows=row_source(path, path.name), user=user, dry_run=False, create_customers=True)
    seconds = time.perf_counter() - started
    path.unlink(missing_ok=True)
    assert result.error_count == 0, result.errors[:5]
    print(
        f"{result.lines} order lines ({result.orders} orders, {result.customers_created} new customers) "
        f"imported in {seconds:.1f}s: {result.lines / seconds:,.0f} lines/s"
    )


if __name__ == "__main__":
    _measure()
