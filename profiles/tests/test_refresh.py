"""The per-customer refresh after new orders or events: the stored profile row is overwritten in place."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.tests.factories import OrderLineFactory, SalesOrderFactory
from profiles.models import CustomerProfile
from profiles.services import rebuild
from profiles.services.refresh import profile_refresh_customers


def test_a_refresh_overwrites_the_stored_row_and_adds_a_missing_one(history):
    run = rebuild.profile_rebuild_sync()
    buyer, missing = history[0], history[1]
    before = CustomerProfile.objects.get(run=run, customer=buyer)
    CustomerProfile.objects.filter(run=run, customer=missing).delete()
    order = SalesOrderFactory(customer=buyer, ordered_at=timezone.now() - timedelta(hours=1))
    OrderLineFactory(order=order, quantity=1, unit_price=Decimal("888.00"))
    rows = CustomerProfile.objects.filter(run=run).count()

    assert profile_refresh_customers(customer_ids=[buyer.pk, missing.pk]) == 2

    after = CustomerProfile.objects.get(run=run, customer=buyer)
    assert (after.pk, after.created_at) == (before.pk, before.created_at)  # the same row, overwritten
    assert after.refreshed_at is not None and after.frequency == before.frequency + 1
    assert CustomerProfile.objects.get(run=run, customer=missing).refreshed_at is not None
    assert CustomerProfile.objects.filter(run=run).count() == rows + 1


@pytest.mark.nomongo(reason="MongoDB has no INSERT ... ON CONFLICT: the refresh keeps bulk_update there")
def test_a_refresh_writes_its_rows_in_one_upsert_not_a_case_per_row_and_column(history):
    rebuild.profile_rebuild_sync()
    with CaptureQueriesContext(connection) as captured:
        assert profile_refresh_customers(customer_ids=[customer.pk for customer in history]) == len(history)
    writes = [query["sql"] for query in captured.captured_queries if "customerprofile" in query["sql"]]
    assert not [sql for sql in writes if "CASE WHEN" in sql.upper()]
    assert [sql for sql in writes if "ON CONFLICT" in sql.upper()]
