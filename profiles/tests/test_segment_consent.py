"""A customer who refused profiling is not targeted by computed segments (issue 13, PIPL Art. 24): not
in a rule, RFM or cluster segment's members, counts or export; withdrawing the refusal brings them back."""

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import ConsentPurpose, ConsentSource
from customers.services.consent import consent_record
from customers.tests.factories import CustomerFactory
from profiles.models import CustomerProfile, Segment
from profiles.selectors import segment_members
from profiles.services.segments import segment_count, segment_create, segments_refresh
from profiles.tests.factories import ProfileRunFactory

pytestmark = pytest.mark.django_db


def _refuse(customer, granted=False):
    consent_record(
        customer=customer, purpose=ConsentPurpose.PROFILING, granted=granted, source=ConsentSource.PHONE
    )


@pytest.fixture
def run_with(sales_user):
    customers = [CustomerFactory(owner=sales_user, name=f"Buyer {i} 买家") for i in range(4)]
    run = ProfileRunFactory(is_active=True, finished_at=timezone.now())
    CustomerProfile.objects.bulk_create(
        CustomerProfile(
            run=run, customer=c, rfm_segment="champions", frequency=2, cluster=0, computed_at=run.as_of
        )
        for c in customers
    )
    run.fitted = {"clusters": [{"cluster": 0, "name": "big spenders"}]}
    run.save()
    return run, customers


def test_a_refusal_leaves_the_customer_out_of_every_computed_segment(client, manager_user, run_with):
    run, customers = run_with
    refuser = customers[0]
    _refuse(refuser)
    rule = segment_create(name="Frequent", rule=[{"field": "frequency", "op": "gte", "value": 1}])
    segments_refresh(run=run)
    segments = [rule, Segment.objects.get(key="rfm:champions"), Segment.objects.get(key="cluster:0")]
    for segment in segments:
        segment.refresh_from_db()
        members = {p.customer_id for p in segment_members(segment=segment, user=manager_user, run=run)}
        assert members == {c.pk for c in customers[1:]}, segment.kind
        assert segment.member_count == 3, segment.kind
    client.force_login(manager_user)
    page = client.get(reverse("profiles:segment-detail", args=[rule.pk])).content.decode()
    assert customers[1].name in page and refuser.name not in page
    export = b"".join(client.get(reverse("profiles:segment-export", args=[rule.pk])).streaming_content)
    assert refuser.name not in export.decode("utf-8-sig") and customers[1].name in export.decode("utf-8-sig")


def test_withdrawing_the_refusal_brings_the_customer_back(manager_user, run_with):
    run, customers = run_with
    _refuse(customers[0])
    segment = segment_create(name="Frequent", rule=[{"field": "frequency", "op": "gte", "value": 1}])
    assert segment.member_count == 3
    _refuse(customers[0], granted=True)
    assert segment_count(segment=segment) == 4
    assert segment_members(segment=segment, user=manager_user, run=run).count() == 4


def test_a_customer_never_asked_is_targeted(manager_user, run_with):
    run, _customers = run_with
    segment = segment_create(name="Frequent", rule=[{"field": "frequency", "op": "gte", "value": 1}])
    assert segment.member_count == 4
    assert segment_members(segment=segment, user=manager_user, run=run).count() == 4
