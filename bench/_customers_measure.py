"""Measured in a child process (Django configured from the environment); prints a Markdown table."""

from __future__ import annotations

import statistics
import sys
import time


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from customers.models import ContactMethod, Customer
    from customers.selectors import customer_list, customer_page

    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    users = get_user_model().objects
    manager, sales = users.get(username="manager"), users.get(username="sales1")
    phone = (
        ContactMethod.objects.filter(kind="mobile", customer__owner=sales)
        .values_list("value", flat=True)[:1]
        .get()
    )
    some = Customer.objects.filter(owner=sales).order_by("created_at")[5000:5001].get()
    # A deep page: the cursor of the page that starts ~90% into the manager's name-sorted list.
    total = Customer.objects.count()  # once, outside the measured requests
    deep = int(total * 0.9)
    deep_name = Customer.objects.order_by("name", "id").values_list("name", flat=True)[deep : deep + 1].get()
    page = customer_page(customer_list(user=manager, filters={}).filter(name__gte=deep_name), size=25)
    deep_cursor = page.next_cursor or ""
    index = reverse("customers:index")
    cases = [
        ("list, first page (manager)", manager, index, {}),
        ("list, first page (sales)", sales, index, {}),
        (
            "list, stage filter + newest first (sales)",
            sales,
            index,
            {"stage": "customer", "sort": "-created"},
        ),
        ("search by phone (sales)", sales, index, {"q": phone}),
        ("search by name substring (sales)", sales, index, {"q": "张伟"}),
        ("search by name substring (manager)", manager, index, {"q": "Taylor"}),
        ("deep page ~90% (manager)", manager, index, {"cursor": deep_cursor}),
        ("detail page (sales)", sales, reverse("customers:customer-detail", args=[some.pk]), {}),
    ]
    print("| page | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for label, user, url, params in cases:
        client = Client()
        client.force_login(user)
        for _ in range(3):
            assert client.get(url, params).status_code == 200
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        print(f"| {label} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} |")
