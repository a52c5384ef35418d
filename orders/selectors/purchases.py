"""The purchase history feed for the profile pipeline: orders and their lines as streamed chunks of tuples."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from crm_site.db import bulk_reads
from orders.models import OrderLine, ProductCategory, SalesOrder

# Order ids per `order_id IN (...)` query when reading a few customers' lines.
ORDER_ID_CHUNK = 1000


def _root_names() -> dict[str, str]:
    """Every category's top-level name by category id (as str). The tree is small: mapped once instead of
    a self-join per line (cheaper at 10M lines, and the self-join misreads columns on MongoDB)."""
    names = dict(ProductCategory.objects.values_list("pk", "name"))
    return {
        str(pk): names.get(root_id, "")
        for pk, root_id in ProductCategory.objects.values_list("pk", "root_id")
    }


def _purchased(*, as_of: datetime | None, customer_ids: Iterable[Any] | None) -> Any:
    queryset = SalesOrder.objects.filter(status__in=SalesOrder.PURCHASED)
    if as_of is not None:
        # as_of is the exclusive cutoff (the profile rebuild passes the start of the next local day):
        # an order stamped exactly at it belongs to the next day, not to "as of".
        queryset = queryset.filter(ordered_at__lt=as_of)
    if customer_ids is not None:
        queryset = queryset.filter(customer_id__in=list(customer_ids))
    return queryset.order_by()


def purchased_orders(
    *, as_of: datetime | None = None, customer_ids: Iterable[Any] | None = None, chunk_size: int = 50_000
) -> Iterator[list[tuple[str, str, datetime, str, str]]]:
    """Paid/shipped/completed orders before ``as_of`` (exclusive) as chunks of (pk, customer_id,
    ordered_at, channel, currency) tuples, ids as str.

    One streamed query (no per-chunk look-ups): with ``purchased_lines`` the bulk feed of the profile
    pipeline, which joins the two itself (values() across a join is not portable to MongoDB).
    """
    orders = _purchased(as_of=as_of, customer_ids=customer_ids)
    rows = orders.values_list("pk", "customer_id", "ordered_at", "channel", "currency").iterator(
        chunk_size=chunk_size
    )
    with bulk_reads():
        # Ids as text (bulk_reads); a missing customer stays missing (None): cleaning drops and counts it.
        while chunk := list(islice(rows, chunk_size)):
            yield chunk


def purchased_lines(
    *,
    as_of: datetime | None = None,
    customer_ids: Iterable[Any] | None = None,
    chunk_size: int = 50_000,
    orders: Collection[str] | None = None,
) -> Iterator[list[tuple[str, str, str, str, int, Any]]]:
    """Lines of the orders ``purchased_orders`` yields, as chunks of (pk, order_id, top-level category
    name or "", sku, quantity, line_total after the line discount), ids as str.

    Lines are never joined to their orders in the database: on MongoDB that join is a ``$lookup`` on the
    orders' ``id``, a full scan of the orders per line. The orders are read first (plain indexed filters
    on sales orders) unless the caller already holds their ids (``orders``). Everyone's lines are then
    read in one plain pass and filtered here (a streamed join is also planned for the first rows on
    PostgreSQL and was the slowest part of reading 3 M lines); given customers' lines by ``order_id IN``
    lists, on the foreign key's index on every backend.
    """
    if orders is None:
        orders = {
            row[0]
            for chunk in purchased_orders(as_of=as_of, customer_ids=customer_ids, chunk_size=chunk_size)
            for row in chunk
        }
    roots = _root_names()
    if customer_ids is None:
        yield from _lines(OrderLine.objects.order_by(), roots=roots, chunk_size=chunk_size, orders=orders)
        return
    wanted = list(orders)
    for start in range(0, len(wanted), ORDER_ID_CHUNK):
        some = OrderLine.objects.filter(order_id__in=wanted[start : start + ORDER_ID_CHUNK])
        yield from _lines(some.order_by(), roots=roots, chunk_size=chunk_size, orders=None)


def _lines(
    lines: Any, *, roots: dict[str, str], chunk_size: int, orders: Collection[str] | None
) -> Iterator[list[tuple[str, str, str, str, int, Any]]]:
    rows = lines.values_list("pk", "order_id", "category_id", "sku", "quantity", "line_total").iterator(
        chunk_size=chunk_size
    )
    with bulk_reads():
        while chunk := list(islice(rows, chunk_size)):
            picked = [
                (pk, order, roots.get(category, ""), sku, qty, total)
                for pk, order, category, sku, qty, total in chunk
            ]
            if orders is not None:
                picked = [line for line in picked if line[1] in orders]
            if picked:
                yield picked
