"""The pipeline's bulk readers: what the rebuild reads from the database, column by column."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.conf import settings
from django.utils import timezone

from crm_site.db import is_mongodb
from orders.tests.factories import OrderLineFactory, ProductCategoryFactory, ProductFactory, SalesOrderFactory
from profiles.inputs import read_input
from profiles.tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def test_events_are_read_with_properties_only_where_there_are_some(own_customer, others_customer):
    # Milliseconds: MongoDB stores no finer.
    moment = timezone.now().replace(microsecond=123000) - timedelta(hours=3)
    EventFactory(customer=own_customer, event_type="page_view", occurred_at=moment, channel="web")
    EventFactory(customer=own_customer, event_type="search", properties={"query": "手机"}, channel="app")
    EventFactory(customer=others_customer, event_type="add_to_cart", properties={}, channel="web")
    EventFactory(customer=own_customer, occurred_at=timezone.now() + timedelta(days=2))  # after as_of
    frame = read_input("events", as_of=timezone.now())
    assert len(frame) == 3
    rows = {row.event_type: row for row in frame.itertuples()}
    assert rows["search"].properties == {"query": "手机"} and rows["search"].channel == "app"
    assert rows["add_to_cart"].properties is None and rows["page_view"].properties is None
    assert rows["add_to_cart"].customer_id == str(others_customer.pk)
    EventFactory(customer=others_customer, event_type="search", properties={"query": "手机"}, channel="app")
    searches = (
        read_input("events", as_of=timezone.now()).query("event_type == 'search'")["properties"].tolist()
    )
    assert searches == [{"query": "手机"}] * 2
    if not is_mongodb():  # parsed once per distinct JSON text on the SQL backends
        assert searches[0] is searches[1]
    # Timestamps arrive exact and in UTC, whichever loader parsed them.
    assert rows["page_view"].occurred_at == pd.Timestamp(moment).tz_convert(UTC)


def test_orders_are_read_as_purchased_lines_joined_to_their_orders(own_customer, others_customer):
    top = ProductCategoryFactory(name="Home 家居")
    product = ProductFactory(
        category=ProductCategoryFactory(name="Cups", parent=top), unit_price=Decimal("12.50")
    )
    when = (timezone.now() - timedelta(days=10)).replace(microsecond=250000)
    paid = SalesOrderFactory(customer=own_customer, status="paid", channel="app", ordered_at=when)
    OrderLineFactory(order=paid, product=product, quantity=2)
    OrderLineFactory(order=paid, product=None, category=None, unit_price=Decimal("3.00"))
    OrderLineFactory(order=SalesOrderFactory(customer=others_customer, status="cancelled"), product=product)
    OrderLineFactory(
        order=SalesOrderFactory(customer=others_customer, ordered_at=timezone.now() + timedelta(days=3))
    )
    frame = read_input("orders", as_of=timezone.now())
    assert len(frame) == 2
    line = frame[frame["quantity"] == 2].iloc[0]
    assert line["customer_id"] == str(own_customer.pk) and line["order_id"] == str(paid.pk)
    assert line["category"] == "Home 家居" and line["channel"] == "app" and line["quantity"] == 2
    assert line["amount"] == pytest.approx(25.0) and line["ordered_at"] == pd.Timestamp(when)
    assert set(frame["category"]) == {"Home 家居", ""}
    only_others = read_input("orders", as_of=timezone.now(), customer_ids=[str(others_customer.pk)])
    assert len(only_others) == 0


def test_rows_datetime64_cannot_hold_are_read_as_missing_timestamps_instead_of_failing_the_read(
    own_customer, others_customer
):
    from customers.models import Customer

    ancient = datetime(1500, 1, 1, 12, tzinfo=UTC)
    EventFactory(customer=own_customer, event_type="app_open", occurred_at=ancient)
    EventFactory(customer=others_customer, event_type="app_open")
    OrderLineFactory(order=SalesOrderFactory(customer=own_customer, ordered_at=ancient))
    OrderLineFactory(order=SalesOrderFactory(customer=others_customer))
    Customer.objects.filter(pk=own_customer.pk).update(birth_date=date(1500, 1, 1))
    events = read_input("events", as_of=timezone.now() + timedelta(minutes=1))
    orders = read_input("orders", as_of=timezone.now() + timedelta(minutes=1))
    customers = read_input("customers", as_of=None).set_index("customer_id")
    assert events["occurred_at"].isna().sum() == 1 and len(events) == 2
    assert orders["ordered_at"].isna().sum() == 1 and len(orders) == 2
    assert pd.isna(customers.loc[str(own_customer.pk), "birth_date"])


def test_readers_take_the_as_of_day_up_to_its_last_local_second_and_nothing_of_the_next_day(own_customer):
    from profiles.services.rebuild import end_of_day

    day = date(2024, 6, 30)
    zone = ZoneInfo(settings.TIME_ZONE)
    last_second = datetime(2024, 6, 30, 23, 59, 59, tzinfo=zone)
    next_midnight = datetime(2024, 7, 1, 0, 0, 0, tzinfo=zone)
    for moment, kind in ((last_second, "app_open"), (next_midnight, "page_view")):
        EventFactory(customer=own_customer, event_type=kind, occurred_at=moment)
        OrderLineFactory(order=SalesOrderFactory(customer=own_customer, ordered_at=moment))
    cutoff = end_of_day(day)
    assert cutoff == next_midnight
    events = read_input("events", as_of=cutoff)
    orders = read_input("orders", as_of=cutoff)
    assert events["event_type"].tolist() == ["app_open"]
    assert orders["ordered_at"].tolist() == [pd.Timestamp(last_second).tz_convert(UTC)]


def test_a_missing_customer_reference_is_read_as_missing_not_as_the_text_none():
    # Only MongoDB can hold such a row (no NOT NULL there); the frame builder is what every backend uses.
    from profiles.selectors import _event_frame

    frame = _event_frame([(None, "page_view", timezone.now(), "web")], None)
    assert frame["customer_id"].isna().all()


def test_properties_text_no_parser_can_read_is_handed_on_as_text_for_cleaning_to_count():
    from profiles.pipeline.clean import clean_events
    from profiles.selectors import _shared_properties

    deep = "[" * 100_000 + "]" * 100_000
    values = _shared_properties(('{"query": "tea"}', deep, "{not json"), {})
    assert values == [{"query": "tea"}, deep, "{not json"]
    events = pd.DataFrame(
        {
            "customer_id": ["a"] * 3,
            "event_type": ["search"] * 3,
            "occurred_at": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"],
            "properties": values,
        }
    )
    cleaned, counts = clean_events(events, as_of="2025-01-01")
    assert len(cleaned) == 1 and counts["invalid_properties"] == 2
