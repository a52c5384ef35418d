"""The profiles app's personal-data handler (issue 13): events and portraits exported, then deleted."""

import pytest
from django.utils import timezone

from crm_site.personal_data import personal_data
from customers.tests.factories import CustomerFactory
from profiles.models import CustomerProfile, Event, ProfileChange
from profiles.tests.factories import EventFactory, ProfileRunFactory

pytestmark = pytest.mark.django_db


def _handler():
    return next(handler for handler in personal_data.handlers() if handler.key == "profiles")


def test_export_then_erase_deletes_events_and_portraits(sales_user):
    customer, other = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    EventFactory(customer=customer, properties={"query": "wedding dress"})
    EventFactory(customer=other)
    run = ProfileRunFactory()
    CustomerProfile.objects.create(run=run, customer=customer, computed_at=timezone.now(), region="上海")
    ProfileChange.objects.create(customer=customer, run=run, source="rebuild", kind="segment_moved",
                                 before="loyal", after="at_risk", occurred_at=timezone.now())  # fmt: skip
    exported = _handler().export(customer.pk)
    assert exported["events"][0]["properties"] == {"query": "wedding dress"}
    assert exported["profiles"][0]["region"] == "上海" and len(exported["profile_changes"]) == 1

    assert _handler().erase(customer.pk, request=None) == {"events": 1, "profiles": 1, "profile_changes": 1}
    assert not Event.objects.filter(customer=customer).exists()
    assert Event.objects.filter(customer=other).exists()
    assert _handler().erase(customer.pk, request=None) == {"events": 0, "profiles": 0, "profile_changes": 0}
