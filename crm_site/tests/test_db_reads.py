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
    # Ids come as their canonical text on every backend.
    as_text = [(str(pk), moment) for pk, moment in plain]
    assert fast == streamed == as_text
    assert all(type(pk) is str for rows in (fast, streamed) for pk, _moment in rows)
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


def test_bulk_reads_gives_text_keys_and_foreign_keys_on_every_backend_until_the_last_block_ends(sales_user):
    import uuid

    from customers.models import Relationship
    from customers.tests.factories import PartnerFactory

    customer, friend = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    Relationship.objects.create(customer=customer, related_customer=friend, kind="referral")
    Relationship.objects.create(customer=customer, partner=PartnerFactory(), kind="referral")
    first = bulk_reads()
    first.__enter__()
    second = bulk_reads()
    second.__enter__()  # a second reader starts before the first has finished
    first.__exit__(None, None, None)
    rows = set(Relationship.objects.values_list("customer_id", "related_customer_id"))
    second.__exit__(None, None, None)
    # Keys and foreign keys as text; a missing reference stays missing.
    assert rows == {(str(customer.pk), str(friend.pk)), (str(customer.pk), None)}
    assert isinstance(Customer.objects.values_list("pk", flat=True).first(), uuid.UUID)  # UUIDs again
