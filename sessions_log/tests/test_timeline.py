"""The customer timeline: sources merged newest first, keyset pages that never skip or repeat an entry."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm_site.timeline import Cursor, timeline_page
from customers.tests.factories import CustomerFactory
from orders.tests.factories import SalesOrderFactory, ServiceOrderFactory
from sessions_log.models import Interaction

pytestmark = pytest.mark.django_db


def _history(customer, user):
    base = timezone.now().replace(microsecond=0) - timedelta(days=30)
    expected = []
    for i in range(12):
        when = base + timedelta(hours=i // 2)  # pairs at the same instant: the tie-break must hold
        interaction = Interaction.objects.create(
            customer=customer, channel="call", staff=user, occurred_at=when
        )
        expected.append((when, "interaction", str(interaction.pk)))
        if i % 3 == 0:
            order = SalesOrderFactory(customer=customer, ordered_at=when)
            expected.append((when, "order", str(order.pk)))
        if i % 4 == 0:
            ticket = ServiceOrderFactory(customer=customer, opened_at=when)
            expected.append((when, "ticket", str(ticket.pk)))
    return sorted(expected, reverse=True)


def test_pages_walk_the_merged_history_in_order_without_gaps_or_repeats(sales_user):
    customer = CustomerFactory(owner=sales_user)
    expected = _history(customer, sales_user)
    seen, cursor = [], None
    kinds = ["interaction", "order", "ticket"]
    while True:
        page = timeline_page(customer=customer, user=sales_user, kinds=kinds, cursor=cursor, limit=4)
        seen += [entry.sort_key for entry in page.entries]
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())
    assert seen == expected


def test_kind_filter_and_jump_to_a_date(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    old = timezone.now() - timedelta(days=400)
    Interaction.objects.create(
        customer=customer, channel="visit", staff=sales_user, occurred_at=old, subject="Old visit"
    )
    Interaction.objects.create(customer=customer, channel="call", staff=sales_user, subject="New call")
    SalesOrderFactory(customer=customer, number="SO-TL-1")
    client.force_login(sales_user)
    url = reverse("customers:customer-timeline", args=[customer.pk])
    only_orders = client.get(url, {"kind": "order"}).content.decode()
    assert "SO-TL-1" in only_orders and "New call" not in only_orders
    day = (timezone.localdate() - timedelta(days=200)).isoformat()
    jumped = client.get(url, {"date": day}).content.decode()
    assert "Old visit" in jumped and "New call" not in jumped


def _token(text):
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "garbage!"},
        {"kind": "nope"},
        {"date": "2024-13-45"},
        {"date": "9999-12-31"},
        {"date": "0001-01-01"},
        {"cursor": _token("2026-01-01T00:00:00+00:00|interaction|zzz")},
        {"cursor": _token("2026-01-01T00:00:00+00:00|order|")},
        {"cursor": _token("2026-01-01T00:00:00+00:00|order|\x00")},
        {"cursor": _token("0001-01-01T00:00:00+14:00|order|\uffff")},
        {"cursor": _token("9999-12-31T23:59:59-14:00|order|\uffff")},
        {"cursor": _token("2026-01-01T00:00:00+99:00|order|\uffff")},
        {"cursor": _token("2026-01-01T00:00:00+00:00|unknown-kind|\uffff")},
    ],
)
def test_bad_query_shows_an_error_never_a_500(client, sales_user, query):
    customer = CustomerFactory(owner=sales_user)
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-timeline", args=[customer.pk]), query)
    assert response.status_code == 200
    assert response.context["form"].errors and response.context["page"] is None


def test_another_users_customer_timeline_is_404(client, sales_user, other_sales_user):
    theirs = CustomerFactory(owner=other_sales_user)
    client.force_login(sales_user)
    assert client.get(reverse("customers:customer-timeline", args=[theirs.pk])).status_code == 404
