"""Order import: check every row first, then write all orders and lines in one transaction, or nothing.

Built for files of 500,000 lines: the file is streamed; rows are checked and looked up per chunk (customers
and products with one ``__in`` query per few thousand keys); each order keeps a small header and each line
only four integers in arrays, so the write phase neither re-reads the file nor holds model instances
for more than one batch. Values are checked here once, so the write builds instances without
``full_clean()`` and stores them with ``bulk_create``.
"""

from __future__ import annotations

import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.audit import trail as audit
from crm_site.bulk import build_instances, field_defaults
from crm_site.db import atomic
from crm_site.signals import customers_touched
from crm_site.visibility import sees_everything
from orders.models import OrderLine, Product, ProductCategory, SalesOrder
from orders.services.bulk import money_from_cents
from orders.services.import_rows import MAX_CENTS, Line, RowError, parse_record

MAX_ERRORS_KEPT = 500
CHUNK = 5000
NOT_YOURS = uuid.UUID(int=0)  # marks a customer that exists but is not visible to the importer

# progress(phase, done, total): phase "checking" (rows read, total unknown) or "writing" (lines written).
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class OrderHead:
    """What pass 1 keeps of one order: its header (from its first line) and its running subtotal."""

    index: int
    row: int
    customer: str
    ordered_at: datetime
    channel: str
    currency: str
    status: str
    cents: int = 0
    lines: int = 0


@dataclass
class ImportResult:
    rows: int = 0
    orders: int = 0
    lines: int = 0
    customers_created: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    written: bool = False

    def add_error(self, row: int, field_name: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append({"row": row, "field": field_name, "message": str(message)})


class ImportChanged(Exception):
    """The data changed between the check and the write (another user took a customer id)."""


class _Lookups:
    """Batched lookups of customers and products; categories are few and read once."""

    def __init__(self, *, user: Any, create_customers: bool) -> None:
        from customers.selectors import customer_ids_by_external_id, visible_customer_ids

        self._customer_ids_by_external_id = customer_ids_by_external_id
        self._visible_customer_ids = visible_customer_ids
        self.user = user
        self.create_customers = create_customers
        self.customers: dict[str, uuid.UUID | None] = {}
        self.new_customer_names: dict[str, str] = {}
        # sku -> (product id, category id, active) for products that exist
        self.products: dict[str, tuple[uuid.UUID, uuid.UUID | None, bool] | None] = {}
        self.categories: dict[str, uuid.UUID] = {}
        for pk, code, name in ProductCategory.objects.values_list("pk", "code", "name"):
            self.categories.setdefault(code.lower(), pk)
            self.categories.setdefault(name.strip().lower(), pk)

    def load(self, lines: list[Line]) -> None:
        wanted = {line.customer for line in lines} - self.customers.keys()
        if wanted:
            found = self._customer_ids_by_external_id(wanted)
            if not sees_everything(self.user) and found:
                visible = self._visible_customer_ids(user=self.user, pks=found.values())
                # A customer the importer may not see is refused, never silently attached.
                found = {key: pk if pk in visible else NOT_YOURS for key, pk in found.items()}
            if self.create_customers:
                from customers.selectors.privacy import Kind, suppressed_many

                # An erased person's external id is not created again: refused like someone else's.
                for key in suppressed_many(Kind.EXTERNAL_ID, wanted - found.keys()):
                    found[key] = NOT_YOURS
            for key in wanted:
                self.customers[key] = found.get(key)
        skus = {line.sku for line in lines if line.sku} - self.products.keys()
        if skus:
            found_products = {
                sku: (pk, category_id, active)
                for sku, pk, category_id, active in Product.objects.filter(sku__in=list(skus)).values_list(
                    "sku", "pk", "category_id", "active"
                )
            }
            for sku in skus:
                self.products[sku] = found_products.get(sku)


class _Lines:
    """Every valid line as four integers: order index, item index, quantity, amount in cents (~40 B/line)."""

    def __init__(self) -> None:
        self.order = array("l")
        self.item = array("l")
        self.quantity = array("l")
        self.cents = array("q")
        # item index -> (product id, category id, sku): a few hundred distinct items, shared by all lines
        self.items: list[tuple[uuid.UUID | None, uuid.UUID | None, str]] = []
        self._item_index: dict[tuple[str, str], int] = {}

    def __len__(self) -> int:
        return len(self.order)

    def add(self, head: OrderHead, line: Line, lookups: _Lookups) -> None:
        key = ("sku", line.sku) if line.sku else ("category", line.category.lower())
        index = self._item_index.get(key)
        if index is None:
            if line.sku:
                product_id, category_id, _active = lookups.products[line.sku]  # type: ignore[misc]
            else:
                product_id, category_id = None, lookups.categories[key[1]]
            index = self._item_index[key] = len(self.items)
            self.items.append((product_id, category_id, line.sku))
        self.order.append(head.index)
        self.item.append(index)
        self.quantity.append(line.quantity)
        self.cents.append(line.cents)


def orders_import(
    *,
    rows: Callable[[], Iterator[tuple[int, dict[str, Any]]]],
    user: Any,
    dry_run: bool = True,
    create_customers: bool = False,
    progress: Progress | None = None,
    batch_size: int = CHUNK,
) -> ImportResult:
    """Import order lines: pass 1 checks every row; then (all valid only) one transaction writes them."""
    result = ImportResult()
    lookups = _Lookups(user=user, create_customers=create_customers)
    heads: dict[str, OrderHead] = {}
    lines = _Lines()
    now = timezone.now()
    try:
        chunk: list[Line] = []
        for row, record in rows():
            result.rows += 1
            try:
                chunk.append(parse_record(row, record, now))
            except RowError as error:
                result.add_error(row, error.field, error.message)
            if len(chunk) >= batch_size:
                _check_chunk(chunk, lookups, heads, lines, result, keep=not dry_run)
                chunk = []
                if progress:
                    progress("checking", result.rows, 0)
        _check_chunk(chunk, lookups, heads, lines, result, keep=not dry_run)
    except RowError as error:  # a bad header row
        result.add_error(1, error.field, error.message)
    _check_orders(heads, result)
    result.orders = len(heads)
    result.lines = sum(head.lines for head in heads.values())
    if result.error_count or dry_run or not heads:
        return result
    if progress:
        progress("writing", 0, result.lines)
    try:
        _write(heads=heads, lines=lines, lookups=lookups, user=user, progress=progress, batch_size=batch_size)
    except ImportChanged:
        result.add_error(
            0,
            "customer_external_id",
            _("The customers changed while importing; nothing was written. Try again."),
        )
        return result
    result.customers_created = len(lookups.new_customer_names)
    result.written = True
    return result


def _check_chunk(
    chunk: list[Line],
    lookups: _Lookups,
    heads: dict[str, OrderHead],
    lines: _Lines,
    result: ImportResult,
    keep: bool,
) -> None:
    if not chunk:
        return
    lookups.load(chunk)
    for line in chunk:
        error = _reference_error(line, lookups)
        if error is None:
            head = heads.get(line.number)
            if head is None:
                head = heads[line.number] = OrderHead(
                    index=len(heads),
                    row=line.row,
                    customer=line.customer,
                    ordered_at=line.ordered_at,
                    channel=line.channel,
                    currency=line.currency,
                    status=line.status,
                )
                if lookups.customers.get(line.customer) is None:
                    lookups.new_customer_names.setdefault(line.customer, line.customer_name)
            error = _consistency_error(line, head)
            if error is None:
                head.cents += line.cents
                head.lines += 1
                # Once a row is bad nothing will be written: stop keeping lines.
                if keep and not result.error_count:
                    lines.add(head, line, lookups)
        if error is not None:
            result.add_error(line.row, *error)


def _reference_error(line: Line, lookups: _Lookups) -> tuple[str, str] | None:
    known = lookups.customers.get(line.customer)
    if known is None or known == NOT_YOURS:
        if not lookups.create_customers:
            # One message for "no such customer" and "someone else's customer": no existence oracle.
            return "customer_external_id", _(
                "Customer “%(value)s” is not one of your customers (tick “create unknown customers” to "
                "add new ones)."
            ) % {"value": line.customer}
        if known == NOT_YOURS:
            # External ids are unique across all customers: one held by a customer the importer cannot
            # see can be neither reused nor created again. Say no more than that.
            return "customer_external_id", _("Customer “%(value)s”: this value cannot be used.") % {
                "value": line.customer
            }
    if line.sku:
        product = lookups.products.get(line.sku)
        if product is None:
            return "sku", _("Unknown product SKU “%(value)s”.") % {"value": line.sku}
        if not product[2]:
            return "sku", _("Product “%(value)s” is inactive and cannot be ordered.") % {"value": line.sku}
    if not line.sku and line.category.lower() not in lookups.categories:
        return "category", _("Unknown category “%(value)s”.") % {"value": line.category}
    return None


CONSISTENT = (
    ("customer", "customer_external_id"),
    ("ordered_at", "order_date"),
    ("channel", "channel"),
    ("currency", "currency"),
    ("status", "status"),
)


def _consistency_error(line: Line, head: OrderHead) -> tuple[str, str] | None:
    for name, column in CONSISTENT:
        if getattr(line, name) != getattr(head, name):
            return column, _("Order %(number)s: %(column)s differs from its first line (row %(row)s).") % {
                "number": line.number,
                "column": column,
                "row": head.row,
            }
    return None


def _check_orders(heads: dict[str, OrderHead], result: ImportResult) -> None:
    """Order totals that fit the money columns, and numbers not taken yet (1,000 per query)."""
    for number, head in heads.items():
        if head.cents >= MAX_CENTS:
            result.add_error(
                head.row, "amount", _("Order %(number)s: the total is too large.") % {"number": number}
            )
    numbers = list(heads)
    for start in range(0, len(numbers), 1000):
        for number in SalesOrder.objects.filter(number__in=numbers[start : start + 1000]).values_list(
            "number", flat=True
        ):
            # Numbers are unique across everyone's orders; whose order holds it is not the importer's
            # business, so the message is the same for their own orders and anyone else's.
            result.add_error(
                heads[number].row,
                "order_number",
                _("Order number “%(number)s”: this value cannot be used.") % {"number": number},
            )


@atomic
def _write(
    *,
    heads: dict[str, OrderHead],
    lines: _Lines,
    lookups: _Lookups,
    user: Any,
    progress: Progress | None,
    batch_size: int,
) -> None:
    from customers.selectors import visible_customer_ids
    from customers.services import customers_bulk_create_minimal

    if lookups.new_customer_names:
        names = lookups.new_customer_names
        created = customers_bulk_create_minimal(
            rows=[{"external_id": key, "name": name or key} for key, name in names.items()], owner=user
        )
        # Someone may have taken one of these external ids since the check: never attach orders to a
        # customer the importer cannot see (the exception rolls the whole import back).
        visible = visible_customer_ids(user=user, pks=created.values())
        if any(pk not in visible for pk in created.values()):
            raise ImportChanged
        lookups.customers.update(created)
    note = _("Imported")
    who, imported = audit.who_as(user, via="import"), audit.AuditEntry.Action.IMPORT
    order_defaults = field_defaults(SalesOrder)
    order_pks = [uuid.uuid4() for _head in range(len(heads))]
    all_heads = list(heads.items())
    for start in range(0, len(all_heads), batch_size):
        orders = build_instances(
            SalesOrder,
            order_defaults,
            (
                {
                    "id": order_pks[head.index],
                    "number": number,
                    "customer_id": lookups.customers[head.customer],
                    "owner_id": user.pk,
                    "status": head.status,
                    "channel": head.channel,
                    "ordered_at": head.ordered_at,
                    "currency": head.currency,
                    "subtotal": money_from_cents(head.cents),
                    "total": money_from_cents(head.cents),
                    "notes": note,
                }
                for number, head in all_heads[start : start + batch_size]
            ),
        )
        SalesOrder.objects.bulk_create(orders, batch_size=batch_size)
        # One audit entry per imported order (bulk writes fire no signals); its lines are in the file.
        audit.record_many(
            [
                audit.build(action=imported, instance=order, changes=audit.created_changes(order), who=who)
                for order in orders
            ]
        )
    line_defaults = field_defaults(OrderLine)
    total = len(lines)
    for start in range(0, total, batch_size):
        stop = min(start + batch_size, total)
        OrderLine.objects.bulk_create(
            build_instances(OrderLine, line_defaults, _line_values(lines, order_pks, start, stop)),
            batch_size=batch_size,
        )
        if progress:
            progress("writing", stop, total)
    customers_touched(sender=SalesOrder, customer_ids={lookups.customers[h.customer] for h in heads.values()})


def _line_values(
    lines: _Lines, order_pks: list[uuid.UUID], start: int, stop: int
) -> Iterator[dict[str, Any]]:
    """Unit price rounded up to the cent and the discount that makes quantity × price − discount == amount."""
    items = lines.items
    for position in range(start, stop):
        quantity, cents = lines.quantity[position], lines.cents[position]
        unit = -(-cents // quantity)
        product_id, category_id, sku = items[lines.item[position]]
        yield {
            "id": uuid.uuid4(),
            "order_id": order_pks[lines.order[position]],
            "product_id": product_id,
            "category_id": category_id,
            "sku": sku,
            "quantity": quantity,
            "unit_price": money_from_cents(unit),
            "discount": money_from_cents(unit * quantity - cents),
            "line_total": money_from_cents(cents),
        }
