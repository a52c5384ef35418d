"""crm_site.db.bulk_reads: cheaper parsing of timestamps and ids for bulk reads, same values."""

import pytest
from django.db import connection

from crm_site.db import bulk_reads
from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_bulk_reads_gives_the_same_aware_values_and_restores_the_loader(sales_user):
    for _ in range(3):
        CustomerFactory(owner=sales_user)
    plain = list(Customer.objects.order_by("pk").values_list("pk", "created_at"))
    with bulk_reads():
        fast = list(Customer.objects.order_by("pk").values_list("pk", "created_at"))
        streamed = list(
            Customer.objects.order_by("pk").values_list("pk", "created_at").iterator(chunk_size=2)
        )
    # Ids come as their text on PostgreSQL, as UUIDs elsewhere; str() makes them the same.
    as_text = [[(str(pk), moment) for pk, moment in rows] for rows in (plain, fast, streamed)]
    assert as_text[0] == as_text[1] == as_text[2]
    assert all(value.utcoffset().total_seconds() == 0 for _pk, value in fast)
    if connection.vendor == "postgresql":
        from psycopg.postgres import types
        from psycopg.pq import Format

        adapters = connection.connection.adapters
        loader = adapters.get_loader(types["timestamptz"].oid, Format.TEXT)
        assert loader.__name__ == "SpecificTzLoader"  # Django's own again after the block
        assert (
            isinstance(fast[0][0], str)
            and adapters.get_loader(types["uuid"].oid, Format.TEXT).__name__ == "UUIDLoader"
        )
    assert list(Customer.objects.order_by("pk").values_list("pk", "created_at")) == plain  # UUIDs again
