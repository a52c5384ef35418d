"""The pipeline's spend is in the base currency: orders in another currency are converted at the rate in
force on their day; an order without a rate is dropped and counted, never taken at 1."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from orders.models import ExchangeRate
from orders.tests.factories import OrderLineFactory, SalesOrderFactory
from profiles.inputs import read_input
from profiles.models import CustomerProfile, ProfileRun
from profiles.services import rebuild

pytestmark = pytest.mark.django_db


def _order(customer, *, currency: str, amount: str, days_ago: int):
    order = SalesOrderFactory(
        customer=customer, currency=currency, ordered_at=timezone.now() - timedelta(days=days_ago)
    )
    OrderLineFactory(order=order, product=None, category=None, unit_price=Decimal(amount))
    return order


def test_order_lines_carry_the_rate_of_their_orders_day(own_customer):
    today = timezone.localdate()
    ExchangeRate.objects.create(
        currency="EUR", rate_to_base=Decimal("7.5"), valid_from=today - timedelta(days=60)
    )
    ExchangeRate.objects.create(
        currency="EUR", rate_to_base=Decimal("8.0"), valid_from=today - timedelta(days=10)
    )
    cny = _order(own_customer, currency="CNY", amount="100.00", days_ago=40)
    old_eur = _order(own_customer, currency="EUR", amount="10.00", days_ago=40)
    new_eur = _order(own_customer, currency="EUR", amount="10.00", days_ago=5)
    usd = _order(own_customer, currency="USD", amount="10.00", days_ago=5)  # no USD rate
    frame = read_input("orders", as_of=timezone.now())
    rates = dict(zip(frame["order_id"].astype(str), frame["exchange_rate"], strict=True))
    assert rates[str(cny.pk)] == 1.0
    assert rates[str(old_eur.pk)] == 7.5 and rates[str(new_eur.pk)] == 8.0
    assert np.isnan(rates[str(usd.pk)])


def test_rebuild_spend_is_in_the_base_currency_and_orders_without_a_rate_are_dropped_and_shown(
    history, manager_user, client
):
    buyer = CustomerFactory(owner=manager_user)
    ExchangeRate.objects.create(
        currency="EUR", rate_to_base=Decimal("8.0"), valid_from=timezone.localdate() - timedelta(days=400)
    )
    _order(buyer, currency="CNY", amount="100.00", days_ago=60)
    _order(buyer, currency="EUR", amount="10.00", days_ago=30)  # 80.00 in CNY
    _order(buyer, currency="HKD", amount="999.00", days_ago=20)  # no HKD rate: out, counted
    run = rebuild.profile_rebuild_sync()
    assert run.status == ProfileRun.Status.SUCCEEDED, run.error
    profile = CustomerProfile.objects.get(run=run, customer=buyer)
    assert profile.monetary == pytest.approx(180.0)  # not 100 + 10 + 999
    assert profile.frequency == 2  # the two orders with a rate, not the HKD one
    assert run.cleaning["orders_dropped"]["missing_exchange_rate"] == 1

    client.force_login(manager_user)
    page = client.get(reverse("profiles:run-detail", kwargs={"pk": run.pk})).content.decode()
    assert "No exchange rate into the base currency on the order&#x27;s day: 1" in page
    card = client.get(reverse("profiles:profile-detail", args=[buyer.pk])).content.decode()
    assert "¥180.00" in card


def test_dashboard_clv_buckets_are_grouped_and_in_the_base_currency_in_both_languages(
    old_run, manager_user, client
):
    from django.conf import settings

    client.force_login(manager_user)
    for language, heading in (
        ("en", "CLV distribution (12 months, ¥)"),
        ("zh-hans", "CLV 分布（12 个月，¥）"),
    ):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get(reverse("profiles:index")).content.decode()
        assert heading in page
        assert "5,000–10,000" in page and "10,000+" in page
