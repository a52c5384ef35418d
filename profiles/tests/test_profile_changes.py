"""Profile changes: a rebuild's publish and the per-customer refresh record what moved, for the timeline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from customers.tests.factories import CustomerFactory
from orders.tests.factories import OrderLineFactory, SalesOrderFactory
from profiles.labels import profile_change_text
from profiles.models import CustomerProfile, ProfileChange
from profiles.services import changes, rebuild
from profiles.services.changes import CHURN_RISK_HIGH, profile_changes_record_run
from profiles.services.refresh import profile_refresh_customers
from profiles.tests.factories import ProfileRunFactory

pytestmark = pytest.mark.django_db


def _run_with(customers, *, segment, risk, band, as_of=None):
    run = ProfileRunFactory(as_of=as_of or timezone.now(), finished_at=timezone.now())
    CustomerProfile.objects.bulk_create(
        CustomerProfile(
            run=run,
            customer=customer,
            rfm_segment=segment(i),
            churn_risk=risk(i),
            clv_bucket=band(i),
            clv_12m=Decimal(100 * (band(i) or 0)),
            computed_at=run.as_of,
        )
        for i, customer in enumerate(customers)
    )
    return run


def _moves(run):
    return sorted(
        (str(c.customer_id), c.kind, c.before, c.after, c.before_value, c.after_value)
        for c in ProfileChange.objects.filter(run=run)
    )


def test_publish_walk_records_segment_moves_churn_crossings_and_band_changes_only(sales_user, monkeypatch):
    monkeypatch.setattr(changes, "COMPARE_BATCH", 3)  # the walk crosses several batches
    people = sorted((CustomerFactory(owner=sales_user) for _ in range(8)), key=lambda c: str(c.pk))
    old = _run_with(
        people[:7],
        segment=lambda i: "loyal",
        risk=lambda i: [0.2, 0.59, 0.61, None, 0.1, 0.2, 0.2][i],
        band=lambda i: 2,
    )
    new = _run_with(
        people,  # the eighth is new: nothing to compare with
        segment=lambda i: "at_risk" if i in (0, 7) else ("" if i == 6 else "loyal"),
        risk=lambda i: [0.64, 0.6, 0.9, 0.9, 0.5, 0.2, 0.2, 0.9][i],
        band=lambda i: 4 if i == 5 else 2,
    )

    assert profile_changes_record_run(run=new, previous=old) == 4

    ids = [str(person.pk) for person in people]
    assert _moves(new) == sorted(
        [
            (ids[0], "segment_moved", "loyal", "at_risk", None, None),
            (ids[0], "churn_risk_up", "", "", 0.2, 0.64),
            (ids[1], "churn_risk_up", "", "", 0.59, 0.6),  # 0.59 -> 0.60 crosses the line
            (ids[5], "value_tier_changed", "2", "4", 200.0, 400.0),
        ]
    )
    # 0.61 -> 0.9 was already high; no value before; 0.1 -> 0.5 stays under; "" is no segment.
    assert CHURN_RISK_HIGH == 0.6
    new.refresh_from_db()  # the stored time (MongoDB keeps milliseconds)
    assert set(ProfileChange.objects.values_list("occurred_at", flat=True)) == {new.as_of}


def test_publish_walk_reads_in_batches_not_per_customer(sales_user, monkeypatch):
    monkeypatch.setattr(changes, "COMPARE_BATCH", 5)
    people = [CustomerFactory(owner=sales_user) for _ in range(12)]
    old = _run_with(people, segment=lambda i: "loyal", risk=lambda i: 0.1, band=lambda i: 1)
    new = _run_with(people, segment=lambda i: "lost", risk=lambda i: 0.1, band=lambda i: 1)
    with CaptureQueriesContext(connection) as captured:
        assert profile_changes_record_run(run=new, previous=old) == 12
    # The writes go to the changes table; every read of profiles is one of the walk's.
    reads = [q["sql"] for q in captured.captured_queries if "customerprofile" in q["sql"]]
    assert len(reads) == 2 * 3 + 1  # three batches of (new rows, old rows in their range), one empty read


def test_a_rebuild_publish_records_what_moved_since_the_replaced_run_once(history):
    first = rebuild.profile_rebuild_sync()
    assert not ProfileChange.objects.exists()  # nothing to compare the first run with
    buyer = history[0]
    stored = CustomerProfile.objects.get(run=first, customer=buyer)
    moved_from = "lost" if stored.rfm_segment != "lost" else "champions"
    CustomerProfile.objects.filter(pk=stored.pk).update(rfm_segment=moved_from)

    second = rebuild.profile_rebuild_sync()

    moved = ProfileChange.objects.get(customer=buyer, kind="segment_moved")
    current = CustomerProfile.objects.get(run=second, customer=buyer)
    assert (moved.run_id, moved.source) == (second.pk, "rebuild")
    assert (moved.before, moved.after) == (moved_from, current.rfm_segment)
    count = ProfileChange.objects.count()
    assert rebuild.profile_publish(run_id=second.pk) is True  # published already: nothing twice
    assert ProfileChange.objects.count() == count


def test_a_refresh_records_a_segment_move_and_a_churn_rise_past_the_threshold(history):
    run = rebuild.profile_rebuild_sync()
    buyer = history[0]
    stored = CustomerProfile.objects.get(run=run, customer=buyer)
    moved_from = "lost" if stored.rfm_segment != "lost" else "champions"
    CustomerProfile.objects.filter(pk=stored.pk).update(rfm_segment=moved_from, churn_risk=0.05)
    order = SalesOrderFactory(customer=buyer, ordered_at=timezone.now() - timedelta(hours=1))
    OrderLineFactory(order=order, quantity=1, unit_price=Decimal("88.00"))

    assert profile_refresh_customers(customer_ids=[buyer.pk]) == 1

    fresh = CustomerProfile.objects.get(run=run, customer=buyer)
    recorded = {c.kind: c for c in ProfileChange.objects.filter(customer=buyer)}
    assert recorded["segment_moved"].source == "refresh"
    assert (recorded["segment_moved"].before, recorded["segment_moved"].after) == (
        moved_from,
        fresh.rfm_segment,
    )
    assert ("churn_risk_up" in recorded) == (fresh.churn_risk is not None and fresh.churn_risk >= 0.6)
    # A second refresh with nothing new moves nothing.
    count = ProfileChange.objects.count()
    profile_refresh_customers(customer_ids=[buyer.pk])
    assert ProfileChange.objects.count() == count


def test_a_refresh_that_raises_churn_risk_past_the_threshold_records_it(history):
    run = rebuild.profile_rebuild_sync()
    risky = CustomerProfile.objects.filter(run=run, churn_risk__gte=CHURN_RISK_HIGH).first()
    if risky is None:
        pytest.fail("the seeded history has no customer at high churn risk to test with")
    CustomerProfile.objects.filter(pk=risky.pk).update(churn_risk=0.21)

    profile_refresh_customers(customer_ids=[risky.customer_id])

    rise = ProfileChange.objects.get(customer_id=risky.customer_id, kind="churn_risk_up")
    assert rise.before_value == 0.21 and rise.after_value >= CHURN_RISK_HIGH


def test_changes_read_in_the_readers_language():
    segment = ProfileChange(kind="segment_moved", before="loyal", after="at_risk")
    risk = ProfileChange(kind="churn_risk_up", before_value=0.21, after_value=0.64)
    tier = ProfileChange(kind="value_tier_changed", before="5", after="7")
    with translation.override("en"):
        assert profile_change_text(segment) == "Segment: Loyal → At risk"
        assert profile_change_text(risk) == "Churn risk rose 21% → 64%"
        assert profile_change_text(tier) == "Value tier rose: 1,000–2,000 → 5,000–10,000"
    with translation.override("zh-hans"):
        assert "Loyal" not in profile_change_text(segment)
        assert "64%" in profile_change_text(risk)


def test_the_timeline_shows_profile_changes_and_filters_them(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    run = ProfileRunFactory(is_active=True, finished_at=timezone.now())
    ProfileChange.objects.create(
        customer=customer,
        run=run,
        source="rebuild",
        kind="churn_risk_up",
        occurred_at=timezone.now(),
        before_value=0.21,
        after_value=0.64,
    )
    ProfileChange.objects.create(
        customer=customer,
        run=run,
        source="refresh",
        kind="segment_moved",
        occurred_at=timezone.now() - timedelta(days=1),
        before="loyal",
        after="at_risk",
    )
    client.force_login(sales_user)
    url = reverse("customers:customer-timeline", args=[customer.pk])
    with translation.override("en"):
        page = client.get(url, {"kind": "profile_change"}, headers={"accept-language": "en"})
    text = page.content.decode()
    assert "Churn risk rose 21% → 64%" in text and "Segment: Loyal → At risk" in text
    assert "Profile changes" in text  # the kind filter offers them


def test_another_users_customer_changes_never_show(client, sales_user, other_sales_user):
    theirs = CustomerFactory(owner=other_sales_user)
    ProfileChange.objects.create(
        customer=theirs, source="refresh", kind="segment_moved", occurred_at=timezone.now()
    )
    from profiles.selectors import profile_change_timeline

    assert not profile_change_timeline(customer=theirs, user=sales_user, cursor=None, limit=25)
    client.force_login(sales_user)
    assert client.get(reverse("customers:customer-timeline", args=[theirs.pk])).status_code == 404
