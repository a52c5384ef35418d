"""The purchase history feed for the profile pipeline: plain dicts in keyset-paginated chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from orders.models import OrderLine, SalesOrder

_FIELDS = (
    "pk",
    "order_id",
    "order__customer_id",
    "order__ordered_at",
    "order__channel",
    "category__root__name",
    "sku",
    "quantity",
    "line_total",
)


def purchase_lines(
    *,
    as_of: datetime | None = None,
    customer_ids: Iterable[Any] | None = None,
    chunk_size: int = 50_000,
) -> Iterator[list[dict[str, Any]]]:
    """Every line of paid/shipped/completed orders, as chunks of plain dicts.

    Keys: customer_id, order_id, line_id (str), ordered_at (aware datetime), category (top-level
    category name or ""), sku, quantity (int), amount (Decimal, after the line discount), channel.
    Pages by primary key (keyset) so memory stays flat at any size and no page re-scans earlier rows.
    """
    base = OrderLine.objects.filter(order__status__in=SalesOrder.PURCHASED)
    if as_of is not None:
        base = base.filter(order__ordered_at__lte=as_of)
    if customer_ids is not None:
        base = base.filter(order__customer_id__in=list(customer_ids))
    base = base.order_by("pk").values_list(*_FIELDS)
    last = None
    while True:
        page = base.filter(pk__gt=last) if last is not None else base
        rows = list(page[:chunk_size])
        if not rows:
            return
        last = rows[-1][0]
        yield [
            {
                "customer_id": str(customer_id),
                "order_id": str(order_id),
                "line_id": str(pk),
                "ordered_at": ordered_at,
                "category": category or "",
                "sku": sku,
                "quantity": int(quantity),
                "amount": amount if isinstance(amount, Decimal) else Decimal(str(amount)),
                "channel": channel,
            }
            for pk, order_id, customer_id, ordered_at, channel, category, sku, quantity, amount in rows
        ]
        if len(rows) < chunk_size:
            return
