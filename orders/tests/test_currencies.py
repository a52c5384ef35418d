"""Money in more than one currency: totals are converted into the base currency at the rate of the
order's day (opportunities at today's), a missing rate is shown and never taken as 1."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm_site.money import RateTable
from orders.models import ExchangeRate, SalesOrder
from orders.selectors import customer_orders_summary
from orders.selectors.summaries import revenue_by_category, revenue_by_month
from orders.tests.factories import CustomerFactory, OpportunityFactory, OrderLineFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def _order(customer, *, currency: str, amount: str, day: date, status=SalesOrder.Status.COMPLETED):
    order = SalesOrderFactory(customer=customer, currency=currency, ordered_at=_noon(day), status=status)
    OrderLineFactory(order=order, product=None, unit_price=Decimal(amount))
    return order


def _rate(currency: str, rate: str, valid_from: date) -> ExchangeRate:
    return ExchangeRate.objects.create(currency=currency, rate_to_base=Decimal(rate), valid_from=valid_from)


def test_rate_table_uses_the_rate_in_force_on_the_day():
    table = RateTable(
        "CNY", [("EUR", date(2026, 3, 1), Decimal("8.0")), ("EUR", date(2026, 1, 1), Decimal("7.5"))]
    )
    assert table.rate_on("CNY", date(2000, 1, 1)) == 1
    assert table.rate_on("EUR", date(2025, 12, 31)) is None  # before the first rate: none, not 1
    assert table.rate_on("EUR", date(2026, 2, 28)) == Decimal("7.5")
    assert table.rate_on("EUR", date(2026, 3, 1)) == Decimal("8.0")
    assert table.rate_on("USD", date(2026, 3, 1)) is None


def test_customer_panel_converts_each_order_at_the_rate_of_its_day(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    _rate("EUR", "7.5", date(2026, 1, 1))
    _rate("EUR", "8.0", date(2026, 3, 1))
    _order(customer, currency="CNY", amount="8115.36", day=date(2026, 1, 20))
    _order(customer, currency="EUR", amount="130.00", day=date(2026, 2, 15))  # at 7.5: 975.00
    summary = customer_orders_summary(customer=customer, user=sales_user)
    total = summary["purchased_total"]
    assert summary["purchased_count"] == 2
    assert total.amount == Decimal("9090.36") and total.complete
    assert total.by_currency == {"CNY": Decimal("8115.36"), "EUR": Decimal("130.00")}

    client.force_login(sales_user)
    page = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()
    assert '2 · <span data-money="total">¥9,090.36</span>' in page
    assert "¥8,115.36 + €130.00" in page  # what the total was made of
    assert "€130.00" in page and "¥8,245.36" not in page  # never the plain sum of both currencies


def test_a_missing_rate_is_shown_and_left_out_of_the_total(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    _rate("EUR", "8.0", date(2026, 4, 1))  # from April only: none in force on 1 March
    _order(customer, currency="CNY", amount="100.00", day=date(2026, 2, 1))
    _order(customer, currency="EUR", amount="130.00", day=date(2026, 3, 1))
    total = customer_orders_summary(customer=customer, user=sales_user)["purchased_total"]
    assert total.amount == Decimal("100.00") and not total.complete
    assert total.missing["EUR"].first_day == date(2026, 3, 1) and total.missing["EUR"].amount == Decimal(
        "130"
    )

    client.force_login(sales_user)
    page = client.get(reverse("customers:customer-detail", args=[customer.pk])).content.decode()
    assert "+ €130.00 not converted: no rate for EUR on 2026-03-01" in page
    assert '<span data-money="total">¥100.00</span>' in page


def test_reports_convert_into_the_base_currency_or_show_one_currency_in_itself(client, manager_user):
    today = timezone.localdate()
    customer = CustomerFactory(owner=manager_user)
    _rate("EUR", "8.0", today - timedelta(days=800))
    _order(customer, currency="CNY", amount="456666.95", day=today)
    _order(customer, currency="EUR", amount="130.00", day=today)
    _order(customer, currency="HKD", amount="50.00", day=today)  # no HKD rate at all
    client.force_login(manager_user)

    page = client.get(reverse("orders:reports")).content.decode()
    # 456,666.95 + 130 x 8; HKD left out and named
    assert "457,706.95" in page and "456,666.950000000" not in page
    assert f"no rate for HKD on {today:%Y-%m-%d}" in page
    assert "All, in CNY" in page

    only_eur = client.get(reverse("orders:reports"), {"currency": "EUR"}).content.decode()
    assert "Revenue by month (EUR)" in only_eur and ">€130.00<" in only_eur and "457,706.95" not in only_eur

    [category] = revenue_by_category(currency=None)  # the lines have no category: one "(none)" row
    assert category["revenue"].amount == Decimal("457706.95") and set(category["revenue"].missing) == {"HKD"}
    assert [row["revenue"].amount for row in revenue_by_category(currency="EUR")] == [Decimal("130.00")]

    rows = revenue_by_month(currency=None)
    assert rows[-1]["partial"] and not rows[-2]["partial"]
    assert rows[-1]["revenue"].amount == Decimal("457706.95") and rows[-1]["orders"] == 3


def test_board_columns_and_dashboard_pipeline_are_in_the_base_currency(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    _rate("USD", "7.1", timezone.localdate() - timedelta(days=30))
    OpportunityFactory(customer=customer, owner=sales_user, stage="negotiation", amount=Decimal("700.00"))
    OpportunityFactory(
        customer=customer, owner=sales_user, stage="negotiation", amount=Decimal("100.00"), currency="USD"
    )
    OpportunityFactory(
        customer=customer, owner=sales_user, stage="proposal", amount=Decimal("20.00"), currency="EUR"
    )
    client.force_login(sales_user)
    board = client.get(reverse("orders:opportunity-board")).content.decode()
    # 700 + 100 x 7.1, the column header in the same money as the cards ("US$100.00", not "CNY"/"¥" mixed)
    assert '2 · <span data-money="total">¥1,410.00</span>' in board
    assert "US$100.00" in board
    assert f"+ €20.00 not converted: no rate for EUR on {timezone.localdate():%Y-%m-%d}" in board

    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "¥1,410.00" in dashboard and "no rate for EUR" in dashboard


def test_an_exchange_rate_for_the_base_currency_is_refused_and_sales_only_read_rates(
    client, manager_user, sales_user
):
    rate = ExchangeRate(currency="CNY", rate_to_base=Decimal("1"), valid_from=date(2026, 1, 1))
    with pytest.raises(ValidationError) as error:
        rate.full_clean()
    assert "currency" in error.value.message_dict

    client.force_login(manager_user)
    response = client.post(
        reverse("admin:orders_exchangerate_add"),
        {"currency": "CNY", "rate_to_base": "1", "valid_from": "2026-01-01"},
    )
    assert (
        response.status_code == 200
        and "CNY is the base currency: it needs no rate." in response.content.decode()
    )
    response = client.post(
        reverse("admin:orders_exchangerate_add"),
        {"currency": "EUR", "rate_to_base": "7.9", "valid_from": "2026-01-01"},
    )
    assert response.status_code == 302 and ExchangeRate.objects.get().rate_to_base == Decimal("7.9")
    assert sales_user.has_perm("orders.view_exchangerate")
    assert not sales_user.has_perm("orders.change_exchangerate")


def test_a_base_currency_orders_cannot_be_in_stops_start_up(settings):
    from orders.models.rates import base_currency_check

    assert base_currency_check() == []
    settings.CRM_BASE_CURRENCY = "JPY"
    [error] = base_currency_check()
    assert error.id == "orders.E001" and "JPY" in error.msg
