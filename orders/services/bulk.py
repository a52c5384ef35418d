"""Money helper for bulk writes of order data; the instance builder is crm_site.bulk."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache


@lru_cache(maxsize=65_536)  # Decimals are immutable; demo prices and totals repeat a lot
def money_from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)
