"""Issue 13 review: a masked user's search by a contact value takes a reveal unit and is audited."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from crm_site.audit.models import AuditEntry
from customers.tests.factories import ContactMethodFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wang(sales_user):
    customer = CustomerFactory(owner=sales_user, name="Wang Fang", external_id="EXT-77")
    ContactMethodFactory(customer=customer, kind="mobile", value="13800138000")
    ContactMethodFactory(customer=customer, kind="email", value="wang.fang@example.com")
    return customer


@pytest.fixture
def masked(make_user):
    cache.clear()
    client = Client()
    client.force_login(make_user("mkt", "Marketing"))
    return client


def _searches():
    return AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL, context__field="search")


@override_settings(CRM_PII_REVEALS_PER_HOUR=3)
def test_contact_value_searches_use_the_reveal_budget_then_stop(wang, masked):
    assert "Wang Fang" in masked.get("/customers/", {"q": "13800138000"}).content.decode()
    assert "Wang Fang" in masked.get("/customers/choices/", {"q": "wang.fang@example.com"}).content.decode()
    assert "Wang Fang" in masked.get("/search/", {"q": "138 0013 8000"}).content.decode()
    assert _searches().count() == 3
    # Budget spent: the contact part is skipped (the guess is no longer confirmed) and the page says so.
    page = masked.get("/customers/", {"q": "13800138000"}).content.decode()
    assert "Wang Fang" not in page and "only names and external ids" in page
    answer = masked.get("/customers/choices/", {"q": "13800138000"}).json()
    assert answer["results"] == [] and "not searched" in answer["notice"]
    found = masked.get("/search/", {"q": "13800138000"}).content.decode()
    assert "Wang Fang" not in found and "only names and external ids" in found
    entries = list(_searches().order_by("at"))
    assert len(entries) == 6 and [entry.context["granted"] for entry in entries] == [True] * 3 + [False] * 3
    stored = " ".join(str(entry.context) + entry.object_repr for entry in entries)
    assert "13800138000" not in stored and "wang.fang@example.com" not in stored and "8000" in stored
    # Names and external ids are still found, uncounted.
    assert "Wang Fang" in masked.get("/customers/", {"q": "Wang"}).content.decode()
    assert "Wang Fang" in masked.get("/customers/choices/", {"q": "EXT-77"}).content.decode()
    assert _searches().count() == 6


def test_a_user_who_sees_values_searches_contacts_unaudited(wang, sales_user):
    client = Client()
    client.force_login(sales_user)
    assert "Wang Fang" in client.get("/customers/", {"q": "13800138000"}).content.decode()
    assert not _searches().exists()
