"""Who is never targeted: one customer per rule, counted once under the first rule that catches them."""

from datetime import datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from customers.models import ConsentPurpose, ConsentSource, ContactMethod
from customers.services.consent import consent_record
from customers.tests.factories import ContactMethodFactory, CustomerFactory
from marketing.models import Assignment, Campaign, Delivery
from marketing.selectors.audience import audience_customers, audience_review, in_quiet_hours
from marketing.services.assignment import campaign_assign
from marketing.tests.factories import CampaignFactory, VariantFactory
from profiles.models import CustomerProfile
from profiles.tests.factories import ProfileRunFactory, SegmentFactory

EMAIL = ConsentPurpose.MARKETING_EMAIL


def local(*args):
    return timezone.make_aware(datetime(*args))


NOON = local(2026, 12, 2, 12, 0)
EVENING = local(2026, 12, 2, 22, 0)


def _customer(name, *, consent=True, email=True, dnc=False):
    customer = CustomerFactory(name=name)
    if consent:
        consent_record(
            customer=customer,
            purpose=EMAIL,
            granted=True,
            source=ConsentSource.WEB_FORM,
            recorded_at=timezone.now() - timedelta(days=30),
        )
    if email:
        ContactMethodFactory(
            customer=customer, kind=ContactMethod.Kind.EMAIL, value=f"{name}@example.com", do_not_contact=dnc
        )
    return customer


def _withdraw(customer, purpose=EMAIL, source=ConsentSource.UNSUBSCRIBE):
    consent_record(customer=customer, purpose=purpose, granted=False, source=source)


def _deliveries(customer, *ages_days):
    for age in ages_days:
        other = CampaignFactory()
        Delivery.objects.create(
            campaign=other,
            customer=customer,
            channel="email",
            status=Delivery.Status.SENT,
            sent_at=NOON - timedelta(days=age),
        )


@pytest.fixture
def world(make_user):
    marketer = make_user("mkt_a", "Marketing")
    run = ProfileRunFactory(is_active=True, finished_at=timezone.now())
    segment = SegmentFactory(rule=[{"field": "frequency", "op": "gte", "value": 1}])
    people = {
        "eligible": _customer("eligible"),
        "unsubscribed": _customer("unsubscribed"),
        "never_asked": _customer("never_asked", consent=False),
        "withdrawn": _customer("withdrawn"),
        "dnc": _customer("dnc", dnc=True),
        "no_email": _customer("no_email", email=False),
        "refused_profiling": _customer("refused_profiling"),
        "capped": _customer("capped"),
        "under_cap": _customer("under_cap"),
        "two_rules": _customer("two_rules"),
    }
    _withdraw(people["unsubscribed"])
    _withdraw(people["withdrawn"], source=ConsentSource.STAFF)
    _withdraw(people["refused_profiling"], purpose=ConsentPurpose.PROFILING, source=ConsentSource.STAFF)
    _withdraw(people["two_rules"])
    _withdraw(people["two_rules"], purpose=ConsentPurpose.PROFILING, source=ConsentSource.STAFF)
    # A reachable address beside a do-not-contact one keeps "dnc" out of no rule: only all-blocked counts.
    ContactMethodFactory(
        customer=_customer("one_blocked", dnc=True), kind="email", value="second@example.com"
    )
    _deliveries(people["capped"], 1, 6)
    _deliveries(people["under_cap"], 2, 8)  # the second is older than 7 days
    outside = _customer("not_in_segment")
    for customer in [*people.values(), *type(outside)._default_manager.filter(name="one_blocked")]:
        CustomerProfile.objects.create(run=run, customer=customer, frequency=2, computed_at=timezone.now())
    CustomerProfile.objects.create(run=run, customer=outside, frequency=0, computed_at=timezone.now())
    campaign = CampaignFactory(owner=marketer, segment=segment, channel=Campaign.Channel.EMAIL)
    VariantFactory(campaign=campaign, key="A", share=1.0)
    return campaign, people


def _counts(review):
    return {item.key: item.count for item in review.excluded}


@pytest.mark.django_db
def test_every_exclusion_rule_counts_its_customer_once_under_the_first_rule(world):
    campaign, _people = world
    review = audience_review(campaign=campaign, at=NOON)
    assert review.total == 11
    assert _counts(review) == {
        "unsubscribed": 2,  # "unsubscribed" and "two_rules" (also refused profiling: counted here, once)
        "no_consent": 2,  # never asked (consent is opt-in) and withdrawn through staff
        "do_not_contact": 1,
        "no_address": 1,
        "refused_profiling": 1,
        "frequency_cap": 1,
        "quiet_hours": 0,
    }
    assert review.eligible == 3  # eligible, under_cap, one_blocked
    assert review.excluded_total + review.eligible == review.total
    names = set(audience_customers(campaign=campaign, at=NOON, send_time=True).values_list("name", flat=True))
    assert names == {"eligible", "under_cap", "one_blocked"}


@pytest.mark.django_db
def test_inside_quiet_hours_everyone_left_is_held(world):
    campaign, _people = world
    review = audience_review(campaign=campaign, at=EVENING)
    assert _counts(review)["quiet_hours"] == 3
    assert review.eligible == 0


@pytest.mark.django_db
def test_assignment_takes_the_audience_rules_only_not_the_send_time_holds(world):
    campaign, people = world
    campaign_assign(campaign=campaign)
    assigned = set(Assignment.objects.filter(campaign=campaign).values_list("customer__name", flat=True))
    # The capped customer is assigned (the sender skips them later, they stay in their arm).
    assert assigned == {"eligible", "under_cap", "one_blocked", "capped"}


@pytest.mark.django_db
def test_without_a_segment_profiling_refusals_are_not_excluded(world, make_user):
    campaign, people = world
    campaign.segment = None
    campaign.save()
    review = audience_review(campaign=campaign, at=NOON)
    assert "refused_profiling" not in _counts(review)
    assert review.total == 12  # every customer the marketer sees, the one outside the segment too


@pytest.mark.django_db
def test_the_audience_is_what_the_owner_may_see(world, sales_user):
    campaign, people = world
    people["eligible"].owner = sales_user
    people["eligible"].save()
    campaign.owner = sales_user
    campaign.save()
    review = audience_review(campaign=campaign, at=NOON)
    assert (review.total, review.eligible) == (1, 1)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [
        (20, 59, False),
        (21, 0, True),
        (23, 59, True),
        (0, 0, True),
        (7, 59, True),
        (8, 0, False),
        (12, 0, False),
    ],
)
def test_quiet_hours_span_midnight(hour, minute, quiet):
    assert in_quiet_hours(local(2026, 12, 2, hour, minute)) is quiet


def test_quiet_hours_are_read_in_server_time():
    # 13:30 UTC is 21:30 in Asia/Shanghai (the server time zone of the test settings).
    from datetime import UTC

    assert in_quiet_hours(datetime(2026, 12, 2, 13, 30, tzinfo=UTC))
    assert not in_quiet_hours(datetime(2026, 12, 2, 4, 0, tzinfo=UTC))  # 12:00 local


@override_settings(MARKETING_QUIET_HOURS="9-17")
def test_quiet_hours_within_one_day_and_none():
    assert in_quiet_hours(local(2026, 12, 2, 9, 0))
    assert not in_quiet_hours(local(2026, 12, 2, 17, 0))
    with override_settings(MARKETING_QUIET_HOURS="0-0"):
        assert not in_quiet_hours(local(2026, 12, 2, 3, 0))
