"""Measured in a child process (Django configured from the environment); prints Markdown tables.

``main`` times pages through the Django test client (routing, middleware, views, templates, queries):
wall time, which depends on how busy the shared machine is, and the process's own CPU time, which does
not (the database server's CPU is not in it). ``import_main`` times a 100,000-row CSV import.
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from crm_site.testing import force_login_passes_second_factor
    from customers.models import ContactMethod, Customer
    from customers.selectors import customer_list, customer_page

    # The manager's session must not owe the second factor (it would redirect every page to it).
    force_login_passes_second_factor()
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    users = get_user_model().objects
    manager, sales = users.get(username="manager"), users.get(username="sales1")
    phone = (
        ContactMethod.objects.filter(kind="mobile", customer__owner=sales)
        .values_list("value", flat=True)[:1]
        .get()
    )
    some = Customer.objects.filter(owner=sales).order_by("created_at")[5000:5001].get()
    index = reverse("customers:index")
    detail = reverse("customers:customer-detail", args=[some.pk])

    def deep_cursor(user) -> str:
        # The cursor of the page that starts ~90% into the user's name-sorted list (found outside timing).
        mine = customer_list(user=user, filters={}).order_by("name", "id")
        deep = int(Customer.objects.count() * (0.9 if user == manager else 0.45))
        name = mine.values_list("name", flat=True)[deep : deep + 1].get()
        return customer_page(mine.filter(name__gte=name), size=25).next_cursor or ""

    cases = []
    for role, user in (("sales", sales), ("manager", manager)):
        cases += [
            (f"list, first page ({role})", user, index, {}),
            (
                f"list, stage filter + newest first ({role})",
                user,
                index,
                {"stage": "customer", "sort": "-created"},
            ),
            (f"search by phone ({role})", user, index, {"q": phone}),
            (f"search by name, 2 characters 张伟 ({role})", user, index, {"q": "张伟"}),
            (f"search by name substring Taylor ({role})", user, index, {"q": "Taylor"}),
            (f"deep page ~90% ({role})", user, index, {"cursor": deep_cursor(user)}),
            (f"detail page ({role})", user, detail, {}),
        ]
    print("| page | median ms | p95 ms | max ms | CPU median ms |")
    print("|---|---:|---:|---:|---:|")
    for label, user, url, params in cases:
        client = Client()
        client.force_login(user)
        for _ in range(3):
            assert client.get(url, params).status_code == 200
        times, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        print(
            f"| {label} | {statistics.median(times):.1f} | {_p95(times):.1f} | {max(times):.1f} "
            f"| {statistics.median(cpu):.1f} |"
        )


def import_main() -> None:
    """Import N generated rows (CSV) through the same services as the import pages; print one table."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files import File
    from django.test import override_settings

    from customers.services.imports import (
        customer_import_commit,
        customer_import_create,
        customer_import_set_mapping,
        customer_import_validate,
    )

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    user = get_user_model().objects.get(username="sales1")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        # Written to disk a line at a time, so the process's peak memory is the import's, not the file's.
        source = Path(media) / "source.csv"
        with source.open("w", encoding="utf-8") as out:
            out.write("external_id,name,birth_date,email,mobile,owner,lifecycle_stage,city,tags\n")
            for n in range(rows):
                out.write(
                    f"IMP-{n:07d},{'张王李赵'[n % 4]}{'伟芳敏'[n % 3]}{n},1980-01-{n % 28 + 1:02d},"
                    f"imp{n}@example.com,13{n:09d},sales1,customer,上海市,VIP\n"
                )
        size = source.stat().st_size
        started = time.perf_counter()
        with source.open("rb") as handle:
            upload = File(handle, name="bench.csv")
            job = customer_import_create(upload=upload, encoding="utf-8", user=user)
        job = customer_import_set_mapping(job=job, mapping={name: name for name in job.headers})
        job = customer_import_validate(job=job)
        checked = time.perf_counter()
        assert job.status == job.Status.VALID, (job.status, job.errors[:3])
        job = customer_import_commit(job=job)
        done = time.perf_counter()
        assert job.status == job.Status.DONE, job.message
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("| import step | rows | seconds | rows/s |")
    print("|---|---:|---:|---:|")
    for step, seconds in (
        ("dry run (read + check every row)", checked - started),
        ("commit", done - checked),
    ):
        print(f"| {step} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} |")
    print(
        f"\nFile {size / 1e6:.1f} MB. Peak resident memory of the importing process: "
        f"{peak / 1024:.0f} MB ({before / 1024:.0f} MB with Django loaded, before the import)."
    )
