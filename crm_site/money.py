"""Money in more than one currency: a dated rate table and totals converted into the base currency.

Pure (no ORM): ``orders.selectors.rates`` loads the table from ``orders.ExchangeRate`` and feeds it the
database's sums grouped by currency and day. A rate applies from its ``valid_from`` day until the next
rate of that currency; the base currency is worth 1. An amount without a rate on its day is never treated
as 1: it stays out of the converted sum and is reported (currency, first day without a rate, amount).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# How an amount's currency is written before it; a code not listed is written as "XYZ 1.00".
CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "US$", "EUR": "€", "HKD": "HK$"}


def to_decimal(value: Any) -> Decimal:
    """A database sum as Decimal (None is zero; floats from some backends go through their text)."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass
class MissingRate:
    """Amounts of one currency left unconverted: no rate was in force on their day."""

    currency: str
    first_day: date | None
    amount: Decimal = ZERO
    count: int = 0


@dataclass
class MoneyTotal:
    """A sum in the base currency, with what it was made of per currency and what could not be converted."""

    currency: str
    amount: Decimal = ZERO
    count: int = 0
    by_currency: dict[str, Decimal] = field(default_factory=dict)
    missing: dict[str, MissingRate] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def mixed(self) -> bool:
        """Whether anything in it was not in the base currency to begin with."""
        return any(code != self.currency for code in self.by_currency)

    def add(self, other: MoneyTotal) -> None:
        self.amount += other.amount
        self.count += other.count
        for code, amount in other.by_currency.items():
            self.by_currency[code] = self.by_currency.get(code, ZERO) + amount
        for code, gap in other.missing.items():
            mine = self.missing.setdefault(code, MissingRate(code, gap.first_day))
            if gap.first_day is not None and (mine.first_day is None or gap.first_day < mine.first_day):
                mine.first_day = gap.first_day
            mine.amount += gap.amount
            mine.count += gap.count


class RateTable:
    """Rates into ``base`` by currency, each in force from its day until the next one."""

    def __init__(self, base: str, rates: Iterable[tuple[str, date, Any]] = ()) -> None:
        self.base = base
        by_currency: dict[str, list[tuple[date, Decimal]]] = {}
        for currency, valid_from, rate in rates:
            by_currency.setdefault(currency, []).append((valid_from, to_decimal(rate)))
        self._days: dict[str, list[date]] = {}
        self._rates: dict[str, list[Decimal]] = {}
        for currency, entries in by_currency.items():
            entries.sort()
            self._days[currency] = [day for day, _rate in entries]
            self._rates[currency] = [rate for _day, rate in entries]

    def rate_on(self, currency: str, day: date) -> Decimal | None:
        """The rate in force on ``day``, 1 for the base currency, None when there is none."""
        if currency == self.base:
            return Decimal(1)
        days = self._days.get(currency)
        if not days:
            return None
        index = bisect_right(days, day)
        return self._rates[currency][index - 1] if index else None

    def convert(self, amount: Any, currency: str, day: date) -> Decimal | None:
        """``amount`` in the base currency (to the cent, half up), or None without a rate."""
        rate = self.rate_on(currency, day)
        if rate is None:
            return None
        return (to_decimal(amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)

    def total(self, rows: Iterable[tuple[str, date, Any, int]]) -> MoneyTotal:
        """Sum (currency, day, amount, count) rows into one MoneyTotal in the base currency."""
        result = MoneyTotal(self.base)
        for currency, day, amount, count in rows:
            # Sums come back with the backend's precision (SQLite: 456666.950000000): cents here.
            amount = to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
            result.count += count
            result.by_currency[currency] = result.by_currency.get(currency, ZERO) + amount
            converted = self.convert(amount, currency, day)
            if converted is None:
                gap = result.missing.setdefault(currency, MissingRate(currency, day))
                if gap.first_day is None or day < gap.first_day:
                    gap.first_day = day
                gap.amount += amount
                gap.count += count
            else:
                result.amount += converted
        return result
