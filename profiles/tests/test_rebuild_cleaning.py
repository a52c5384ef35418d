"""A rebuild survives stored rows the pipeline cannot use: they are dropped, counted and shown."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.tests.factories import OrderLineFactory, SalesOrderFactory
from profiles.models import CustomerProfile, ProfileRun
from profiles.services import rebuild
from profiles.tests.factories import EventFactory


def _store_bad_rows(customer):
    """Rows ingestion would refuse, stored straight through the ORM (older data, other importers)."""
    ancient = datetime(1500, 1, 1, tzinfo=UTC)
    EventFactory(customer=customer, event_type="page_view", occurred_at=ancient)
    EventFactory(customer=customer, event_type="search", properties={})
    EventFactory(customer=customer, event_type="search", properties={"q": "no query key"})
    EventFactory(customer=customer, event_type="search", properties=["not", "an", "object"])
    EventFactory(customer=customer, event_type="add_to_cart", properties="text")
    EventFactory(customer=customer, event_type="coupon_use", properties={"amount": -5})
    OrderLineFactory(order=SalesOrderFactory(customer=customer, ordered_at=ancient))


def test_rows_the_pipeline_cannot_use_are_dropped_and_counted_and_everyone_gets_a_profile(history):
    bad = history[0]
    _store_bad_rows(bad)
    run = rebuild.profile_rebuild_sync()
    assert run.status == ProfileRun.Status.SUCCEEDED, run.error
    profiles = CustomerProfile.objects.filter(run=run)
    assert profiles.count() == len(history)
    # The customer with bad rows keeps their usable history.
    assert profiles.get(customer=bad).frequency > 0
    events, orders = run.cleaning["events_dropped"], run.cleaning["orders_dropped"]
    assert events["invalid_timestamp"] == 1
    assert events["search_without_query"] == 2
    assert events["invalid_properties"] == 2
    assert events["invalid_numbers"] == 1
    assert orders["invalid_timestamp"] == 1


def test_history_before_2000_and_free_orders_count_and_a_configured_history_start_is_shown(
    history, settings, manager_user, client
):
    from customers.tests.factories import CustomerFactory

    nineties = CustomerFactory(owner=manager_user)
    for year in (1991, 1995, 1998):
        OrderLineFactory(
            order=SalesOrderFactory(customer=nineties, ordered_at=datetime(year, 3, 1, tzinfo=UTC)),
            unit_price=Decimal("30.00"),
        )
    free = CustomerFactory(owner=manager_user)
    for days in (40, 10):
        OrderLineFactory(
            order=SalesOrderFactory(customer=free, ordered_at=timezone.now() - timedelta(days=days)),
            unit_price=Decimal("0.00"),
        )
    run = rebuild.profile_rebuild_sync()
    assert run.status == ProfileRun.Status.SUCCEEDED, run.error
    old = CustomerProfile.objects.get(run=run, customer=nineties)
    assert old.frequency == 3 and old.recency_days > 25 * 365
    gratis = CustomerProfile.objects.get(run=run, customer=free)
    assert gratis.frequency == 2 and gratis.recency_days == pytest.approx(10, abs=1)
    assert gratis.monetary == 0

    settings.PROFILES_HISTORY_START = "1996-01-01"
    cut = rebuild.profile_rebuild_sync()
    assert CustomerProfile.objects.get(run=cut, customer=nineties).frequency == 1
    assert cut.cleaning["orders_dropped"]["before_history_start"] == 2
    assert cut.fitted["params"]["history_start"] == "1996-01-01"
    client.force_login(manager_user)
    page = client.get(reverse("profiles:run-detail", kwargs={"pk": cut.pk})).content.decode()
    assert "1996-01-01" in page
    assert "Before the history start" in page


def test_the_run_page_lists_what_cleaning_dropped_per_reason(history, manager_user, client):
    _store_bad_rows(history[0])
    run = rebuild.profile_rebuild_sync(as_of=rebuild.end_of_day(date.today()))
    client.force_login(manager_user)
    page = client.get(reverse("profiles:run-detail", kwargs={"pk": run.pk})).content.decode()
    assert "Unusable timestamp" in page and "Search without a query" in page
    assert "All history kept" in page


@pytest.mark.parametrize("day", ["9999-12-31", "3000-01-01", "0001-01-01", "1600-06-01"])
def test_an_as_of_date_outside_what_the_pipeline_can_hold_is_a_form_error_not_a_500(
    day, client, manager_user, history
):
    client.force_login(manager_user)
    response = client.post(reverse("profiles:run-create"), {"as_of": day})
    assert response.status_code == 200
    assert response.context["form"].errors["as_of"]
    assert not ProfileRun.objects.exists()


@pytest.mark.parametrize("day", ["9999-12-31", "1000-01-01"])
def test_the_rebuild_command_answers_an_as_of_outside_the_limits_with_a_command_error(day, history):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="1677"):
        call_command("rebuild_profiles", "--as-of", day, "--sync")
    assert not ProfileRun.objects.exists()


def test_refreshing_a_customer_with_unusable_stored_rows_still_rescores_them(history):
    from profiles.services.refresh import profile_refresh_customers

    run = rebuild.profile_rebuild_sync()
    bad = history[0]
    _store_bad_rows(bad)
    assert profile_refresh_customers(customer_ids=[bad.pk]) == 1
    assert CustomerProfile.objects.get(run=run, customer=bad).refreshed_at is not None
