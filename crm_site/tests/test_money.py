"""Money and counts people read: two decimals and thousands grouped by three in English and in Chinese."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from crm_site.money import MissingRate, MoneyTotal
from crm_site.templatetags.money import format_money


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_money_has_two_decimals_and_grouped_thousands_in_both_languages(language):
    with translation.override(language):
        assert format_money(Decimal("777000"), "CNY") == "¥777,000.00"
        assert format_money(Decimal("4896"), "CNY") == "¥4,896.00"
        # A SQLite sum comes back with nine decimals: shown to the cent.
        assert format_money(Decimal("456666.950000000")) == "456,666.95"
        assert format_money(Decimal("-5.5"), "EUR") == "-€5.50"
        assert format_money(Decimal("1234.5"), "XYZ") == "XYZ 1,234.50"
        assert format_money(None) == "" and format_money("n/a") == ""
        counts = Template("{% load humanize %}{{ n|intcomma }}").render(Context({"n": 1234567}))
        assert counts == "1,234,567"  # Django's zh_Hans alone writes 1234567


def test_money_base_is_the_configured_base_currency(settings):
    settings.CRM_BASE_CURRENCY = "HKD"
    assert Template('{% load money %}{{ v|money:"base" }}').render(Context({"v": 10})) == "HK$10.00"


def test_money_total_shows_its_parts_and_each_missing_rate():
    total = MoneyTotal(
        "CNY",
        amount=Decimal("9090.36"),
        by_currency={"CNY": Decimal("8115.36"), "EUR": Decimal("130.00"), "USD": Decimal("3.00")},
        missing={"USD": MissingRate("USD", date(2026, 3, 1), Decimal("3.00"), 1)},
    )
    with translation.override("en"):
        html = Template("{% load money %}{% money_total t %}").render(Context({"t": total}))
    assert '<span data-money="total">¥9,090.36</span>' in html
    assert "¥8,115.36 + €130.00 + US$3.00" in html
    assert "+ US$3.00 not converted: no rate for USD on 2026-03-01" in html
    with translation.override("zh-hans"):
        html = Template("{% load money %}{% money_total t %}").render(Context({"t": total}))
    assert "另有 US$3.00 未换算：2026-03-01 没有 USD 的汇率" in html


@pytest.mark.django_db
def test_a_chinese_page_groups_money_like_an_english_one(client, sales_user):
    from orders.tests.factories import CustomerFactory, OrderLineFactory, SalesOrderFactory

    customer = CustomerFactory(owner=sales_user)
    OrderLineFactory(
        order=SalesOrderFactory(customer=customer), product=None, unit_price=Decimal("777000.00")
    )
    OrderLineFactory(order=SalesOrderFactory(customer=customer), product=None, unit_price=Decimal("4896.00"))
    client.force_login(sales_user)
    pages = {}
    for language in ("en", "zh-hans"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        pages[language] = client.get(
            reverse("customers:customer-detail", args=[customer.pk])
        ).content.decode()
    assert 'lang="zh-hans"' in pages["zh-hans"] and "购买" in pages["zh-hans"]
    for page in pages.values():
        assert '<span data-money="total">¥781,896.00</span>' in page  # the purchases total
        assert "¥777,000.00" in page and "¥4,896.00" in page  # each order
        assert "¥777000" not in page
