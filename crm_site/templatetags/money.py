"""``{{ amount|money }}``, ``{{ amount|money:order.currency }}`` (``"base"``: the base currency) and
``{% money_total total %}``.

The one way a page writes an amount: two decimals, thousands grouped per the reader's language through
Django's number formatting (``crm_site/formats``: "1,234.50" in English and in Chinese), the currency's
symbol in front. ``money_total`` writes a ``crm_site.money.MoneyTotal``: the base-currency sum, what
it was converted from when other currencies are in it, and every amount left out for want of a rate.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.conf import settings
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from crm_site.money import CENT, CURRENCY_SYMBOLS, MoneyTotal

register = template.Library()


def format_money(value: Any, currency: str = "", *, decimals: int = 2) -> str:
    """ "¥1,234.50" (or "1,234.50" without a currency) in the active language; "" for None or non-numbers."""
    if isinstance(value, MoneyTotal):
        value, currency = value.amount, currency or value.currency
    if currency == "base":
        currency = str(settings.CRM_BASE_CURRENCY)
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return ""
    if not number.is_finite():
        return ""
    number = number.quantize(CENT if decimals == 2 else Decimal(1).scaleb(-decimals))
    digits = number_format(abs(number), decimal_pos=decimals, use_l10n=True, force_grouping=True)
    sign = "-" if number < 0 else ""
    if not currency:
        return f"{sign}{digits}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency} {digits}"


@register.filter
def money(value: Any, currency: str = "") -> str:
    """An amount with two decimals and grouped thousands, after its currency's symbol when given."""
    return format_money(value, currency or "")


def missing_rate_text(currency: str, day: Any) -> str:
    return _("no rate for %(currency)s on %(day)s") % {
        "currency": currency,
        "day": day.strftime("%Y-%m-%d") if day else "?",
    }


@register.simple_tag
def money_missing(total: Any) -> SafeString:
    """One line per currency a MoneyTotal left out for want of a rate (nothing when it is complete)."""
    if not isinstance(total, MoneyTotal) or not total.missing:
        return SafeString("")
    return format_html_join(
        "",
        '<span class="d-block small text-danger-emphasis" data-money="missing">{}</span>',
        (
            (
                _("+ %(amount)s not converted: %(reason)s")
                % {
                    "amount": format_money(gap.amount, code),
                    "reason": missing_rate_text(code, gap.first_day),
                },
            )
            for code, gap in sorted(total.missing.items())
        ),
    )


@register.simple_tag
def money_total(total: Any) -> SafeString:
    """A MoneyTotal: its base-currency amount; below it the amounts per currency when it mixes currencies,
    and each currency left out for want of a rate ("+ €130.00 not converted: no rate for EUR on ...")."""
    if not isinstance(total, MoneyTotal):
        return format_html("{}", format_money(total))
    parts = SafeString("")
    if total.mixed:
        parts = format_html(
            '<span class="d-block small text-body-secondary" data-money="parts">{}</span>',
            " + ".join(format_money(amount, code) for code, amount in sorted(total.by_currency.items())),
        )
    return format_html(
        '<span data-money="total">{}</span>{}{}', format_money(total), parts, money_missing(total)
    )


@register.simple_tag
def base_currency() -> str:
    """The base currency's symbol (its code when it has none): ``{% base_currency as symbol %}``."""
    code = str(settings.CRM_BASE_CURRENCY)
    return CURRENCY_SYMBOLS.get(code, code)
