"""Child-process parts of the timeline benchmark (Django configured from the environment)."""

from __future__ import annotations

import http.client
import statistics
import sys
import time
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from bench._search_measure import _p95


def seed_history() -> None:
    """One customer of sales1 gets N interactions and 2% as many orders, tickets and profile changes
    (segment moves, churn rises, value tier changes), over five years."""
    import django

    django.setup()
    import random

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from customers.models import Customer
    from orders.models import SalesOrder, ServiceOrder
    from profiles.models import ProfileChange
    from sessions_log.models import Interaction

    entries = int(sys.argv[1])
    sales = get_user_model().objects.get(username="sales1")
    customer = Customer.objects.filter(owner=sales).order_by("created_at").first()
    rng = random.Random(7)
    now = timezone.now()
    span = 5 * 365 * 24 * 3600
    channels = [choice for choice, _label in Interaction.Channel.choices]
    rows = [
        Interaction(
            id=uuid.uuid4(), customer=customer, channel=rng.choice(channels), staff=sales,
            subject=f"Bench contact {i}", occurred_at=now - timedelta(seconds=rng.randrange(span)),
        )
        for i in range(entries)
    ]  # fmt: skip
    Interaction.objects.bulk_create(rows, batch_size=5000)
    side = max(1, entries // 50)
    SalesOrder.objects.bulk_create(
        [
            SalesOrder(customer=customer, owner=sales, number=f"SO-BENCH-{i:06d}",
                       ordered_at=now - timedelta(seconds=rng.randrange(span)), status="completed")
            for i in range(side)
        ],
        batch_size=5000,
    )  # fmt: skip
    ServiceOrder.objects.bulk_create(
        [
            ServiceOrder(customer=customer, owner=sales, number=f"SR-BENCH-{i:06d}", subject="Bench ticket",
                         opened_at=now - timedelta(seconds=rng.randrange(span)),
                         sla_due_at=now, priority="normal", type="consultation")
            for i in range(side)
        ],
        batch_size=5000,
    )  # fmt: skip
    kinds = [choice for choice, _label in ProfileChange.Kind.choices]
    segments = ["champions", "loyal", "potential_loyalists", "at_risk", "hibernating", "lost"]
    changes = []
    for _i in range(side):
        kind = rng.choice(kinds)
        before, after = rng.sample(segments, 2) if kind == "segment_moved" else ("", "")
        changes.append(
            ProfileChange(
                customer=customer, source="rebuild", kind=kind, before=before, after=after,
                before_value=rng.uniform(0.1, 0.59) if kind == "churn_risk_up" else None,
                after_value=rng.uniform(0.6, 0.95) if kind == "churn_risk_up" else None,
                occurred_at=now - timedelta(seconds=rng.randrange(span)),
            )
        )  # fmt: skip
    ProfileChange.objects.bulk_create(changes, batch_size=5000)
    # Fresh planner statistics, as autovacuum's analyze gives a live table: without them PostgreSQL
    # guesses a handful of rows for this customer and sorts all 50,000 instead of reading the
    # (customer, occurred_at, id) index backwards (160 ms instead of 0.2 ms).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(customer.pk)


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from crm_site.testing import force_login_passes_second_factor
    from crm_site.timeline import timeline_page
    from customers.models import Customer
    from sessions_log.models import Interaction

    # The manager's session must not owe the second factor (it would redirect every page to it).
    force_login_passes_second_factor()
    port, repeat = int(sys.argv[1]), int(sys.argv[2])
    users = get_user_model().objects
    sales, manager = users.get(username="sales1"), users.get(username="manager")
    customer_id = Interaction.objects.values_list("customer_id", flat=True).order_by("customer_id").first()
    customer = Customer.objects.get(pk=customer_id)
    total = Interaction.objects.filter(customer=customer).count()
    deep_cursor = None
    page = timeline_page(customer=Customer.objects.visible_to(manager).get(pk=customer.pk), user=manager)
    for _step in range(1000 // 25):
        page = timeline_page(
            customer=Customer.objects.visible_to(manager).get(pk=customer.pk),
            user=manager,
            cursor=page.next_cursor,
        )
    deep_cursor = page.next_cursor.encode() if page.next_cursor else ""
    base = f"/customers/{customer.pk}/timeline/"
    cases = [
        ("newest page", {}),
        ("1,000 entries deep (cursor)", {"cursor": deep_cursor}),
        ("one kind (tickets)", {"kind": "ticket"}),
        ("one kind (profile changes)", {"kind": "profile_change"}),
        (
            "jump to a date 3 years back",
            {"date": (timezone.localdate() - timedelta(days=3 * 365)).isoformat()},
        ),
    ]
    print(f"Customer with {total:,} interactions.\n")
    print("| page | login | median ms | p95 ms | max ms | queries |")
    print("|---|---|---:|---:|---:|---:|")
    for label, query in cases:
        for user in (sales, manager):
            client = Client()
            client.force_login(user)
            cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
            with CaptureQueriesContext(connection) as captured:
                assert client.get(base, query).status_code == 200
            path = f"{base}?{urlencode(query)}" if query else base
            http_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            times = []
            for attempt in range(3 + repeat):
                started = time.perf_counter()
                http_connection.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
                response = http_connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path} as {user.username}: {response.status} {body[:200]!r}")
                if attempt >= 3:
                    times.append((time.perf_counter() - started) * 1000)
            http_connection.close()
            print(
                f"| {label} | {user.username} | {statistics.median(times):.1f} | {_p95(times):.1f} "
                f"| {max(times):.1f} | {len(captured)} |"
            )
