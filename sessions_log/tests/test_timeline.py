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


ALL_KINDS = ["interaction", "order", "ticket", "project", "opportunity", "profile_change"]


def _every_source(customer, user, *, instants):
    """One row of every source at each instant (ties across six sources); the expected merge order."""
    from orders.models import Opportunity, Project
    from orders.tests.factories import OpportunityFactory, ProjectFactory
    from profiles.models import ProfileChange

    expected = []
    for n, when in enumerate(instants):
        rows = {
            "interaction": Interaction.objects.create(
                customer=customer, channel="call", staff=user, occurred_at=when, subject=f"Call {n}"
            ),
            "order": SalesOrderFactory(customer=customer, ordered_at=when),
            "ticket": ServiceOrderFactory(customer=customer, opened_at=when),
            "project": ProjectFactory(customer=customer, name=f"Project {n}"),
            "opportunity": OpportunityFactory(customer=customer, name=f"Deal {n}"),
            "profile_change": ProfileChange.objects.create(
                customer=customer,
                source="rebuild",
                kind="segment_moved",
                before="loyal",
                after="at_risk",
                occurred_at=when,
            ),
        }
        # created_at is set on insert; the timeline sorts projects and deals by it.
        Project.objects.filter(pk=rows["project"].pk).update(created_at=when)
        Opportunity.objects.filter(pk=rows["opportunity"].pk).update(created_at=when)
        expected += [(when, kind, str(row.pk)) for kind, row in rows.items()]
    return sorted(expected, reverse=True)


def test_six_sources_merge_newest_first_with_ties_broken_by_kind_then_id(sales_user):
    customer = CustomerFactory(owner=sales_user)
    base = timezone.now().replace(microsecond=0) - timedelta(days=3)
    expected = _every_source(customer, sales_user, instants=[base, base, base - timedelta(hours=1)])

    page = timeline_page(customer=customer, user=sales_user, limit=len(expected) + 5)

    assert [entry.sort_key for entry in page.entries] == expected
    assert {entry.kind for entry in page.entries} == set(ALL_KINDS)
    assert page.next_cursor is None


@pytest.mark.parametrize("limit", [1, 4, 7])
def test_keyset_pages_across_six_sources_have_no_gaps_or_repeats(sales_user, limit):
    customer = CustomerFactory(owner=sales_user)
    base = timezone.now().replace(microsecond=0) - timedelta(days=3)
    instants = [base - timedelta(minutes=m) for m in (0, 0, 5, 5, 5, 9)]
    expected = _every_source(customer, sales_user, instants=instants)
    seen, cursor = [], None
    while True:
        page = timeline_page(customer=customer, user=sales_user, cursor=cursor, limit=limit)
        assert len(page.entries) <= limit
        seen += [entry.sort_key for entry in page.entries]
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())
    assert seen == expected
    assert len(set(seen)) == len(seen) == 6 * len(instants)


def test_jump_to_a_date_works_across_every_source(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    now = timezone.now().replace(microsecond=0)
    _every_source(customer, sales_user, instants=[now - timedelta(days=400), now - timedelta(hours=1)])
    client.force_login(sales_user)
    url = reverse("customers:customer-timeline", args=[customer.pk])

    page = client.get(url, {"date": (timezone.localdate() - timedelta(days=200)).isoformat()}).context["page"]

    assert {entry.kind for entry in page.entries} == set(ALL_KINDS)
    assert all(entry.when < now - timedelta(days=300) for entry in page.entries)
    assert len(page.entries) == len(ALL_KINDS)


def test_the_kind_filter_offers_profile_changes(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    client.force_login(sales_user)
    form = client.get(reverse("customers:customer-timeline", args=[customer.pk])).context["form"]
    choices = dict(form.fields["kind"].choices)
    assert list(choices) == ALL_KINDS
    assert str(choices["profile_change"]) == "Profile changes"


def test_another_users_customer_timeline_is_404_on_every_page_and_filter(
    client, sales_user, other_sales_user
):
    theirs = CustomerFactory(owner=other_sales_user)
    _every_source(theirs, other_sales_user, instants=[timezone.now() - timedelta(days=1)])
    client.force_login(sales_user)
    url = reverse("customers:customer-timeline", args=[theirs.pk])
    cursor = Cursor(when=timezone.now()).encode()
    for query in ({}, {"kind": "profile_change"}, {"cursor": cursor}, {"date": "2025-01-01"}):
        assert client.get(url, query).status_code == 404


def test_the_page_costs_the_same_queries_at_any_history_length(client, sales_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    short, long = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    base = timezone.now().replace(microsecond=0) - timedelta(days=3)
    _every_source(short, sales_user, instants=[base])
    _every_source(long, sales_user, instants=[base - timedelta(minutes=m) for m in range(12)])
    client.force_login(sales_user)
    counts = []
    for customer in (short, long, long):
        url = reverse("customers:customer-timeline", args=[customer.pk])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1] == counts[2]
