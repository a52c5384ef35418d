"""crm_site.db.fast_datetime_reads: psycopg's C timestamp loader for bulk reads, same values."""

import pytest
from django.db import connection

from crm_site.db import fast_datetime_reads
from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_fast_datetime_reads_gives_the_same_aware_values_and_restores_the_loader(sales_user):
    for _ in range(3):
        CustomerFactory(owner=sales_user)
    plain = list(Customer.objects.order_by("pk").values_list("pk", "created_at"))
    with fast_datetime_reads():
        fast = list(Customer.objects.order_by("pk").values_list("pk", "created_at"))
        streamed = list(
            Customer.objects.order_by("pk").values_list("pk", "created_at").iterator(chunk_size=2)
        )
    assert fast == plain == streamed
    assert all(value.utcoffset().total_seconds() == 0 for _pk, value in fast)
    if connection.vendor == "postgresql":
        from psycopg.postgres import types
        from psycopg.pq import Format

        loader = connection.connection.adapters.get_loader(types["timestamptz"].oid, Format.TEXT)
        assert loader.__name__ == "SpecificTzLoader"  # Django's own again after the block
    assert list(Customer.objects.order_by("pk").values_list("pk", "created_at")) == plain
