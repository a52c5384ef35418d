"""Order import: check every row first, then write all orders and lines in one transaction, or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic, on_commit
from crm_site.visibility import sees_everything
from orders.models import OrderImport, OrderLine, Product, ProductCategory, SalesOrder
from orders.services.events import customers_touched
from orders.services.import_rows import Line, RowError, parse_record, row_source

MAX_ERRORS_KEPT = 500
CHUNK = 5000
NOT_YOURS = uuid.UUID(int=0)  # marks a customer that exists but is not visible to the importer


@dataclass
class OrderHead:
    """What pass 1 learns about one order: its header and running subtotal."""

    pk: uuid.UUID
    first: Line
    subtotal: Decimal = Decimal("0.00")
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


class _Lookups:
    """Batched lookups of customers, products, categories and existing order numbers."""

    def __init__(self, *, user: Any, create_customers: bool) -> None:
        from customers.selectors import customer_ids_by_external_id

        self._customer_ids_by_external_id = customer_ids_by_external_id
        self.user = user
        self.create_customers = create_customers
        self.customers: dict[str, uuid.UUID | None] = {}
        self.products: dict[str, tuple[uuid.UUID, uuid.UUID | None] | None] = {}
        self.categories: dict[str, uuid.UUID] = {}
        for pk, code, name in ProductCategory.objects.values_list("pk", "code", "name"):
            self.categories.setdefault(code.lower(), pk)
            self.categories.setdefault(name.strip().lower(), pk)

    def load(self, lines: list[Line]) -> None:
        from customers.models import Customer

        wanted = {line.customer for line in lines} - self.customers.keys()
        if wanted:
            found = self._customer_ids_by_external_id(wanted)
            if not sees_everything(self.user) and found:
                visible = set(
                    Customer.objects.visible_to(self.user)
                    .filter(pk__in=list(found.values()))
                    .values_list("pk", flat=True)
                )
                # A customer the importer may not see is refused, never silently attached.
                found = {key: pk if pk in visible else NOT_YOURS for key, pk in found.items()}
            for key in wanted:
                self.customers[key] = found.get(key)
        skus = {line.sku for line in lines if line.sku} - self.products.keys()
        if skus:
            found_products = {
                sku: (pk, category_id)
                for sku, pk, category_id in Product.objects.filter(sku__in=list(skus)).values_list(
                    "sku", "pk", "category_id"
                )
            }
            for sku in skus:
                self.products[sku] = found_products.get(sku)


def _line_prices(quantity: int, amount: Decimal) -> tuple[Decimal, Decimal]:
    """Unit price rounded up to the cent and the discount that makes quantity × price − discount == amount."""
    unit_price = (amount / quantity).quantize(Decimal("0.01"), rounding=ROUND_UP)
    return unit_price, unit_price * quantity - amount


def orders_import(
    *,
    rows: Callable[[], Iterator[tuple[int, dict[str, Any]]]],
    user: Any,
    dry_run: bool = True,
    create_customers: bool = False,
    progress: Callable[[int, bool], None] | None = None,
    batch_size: int = CHUNK,
) -> ImportResult:
    """Import order lines: pass 1 checks every row; pass 2 (all valid only) writes in one transaction."""
    result = ImportResult()
    lookups = _Lookups(user=user, create_customers=create_customers)
    heads: dict[str, OrderHead] = {}
    try:
        chunk: list[Line] = []
        for row, record in rows():
            result.rows += 1
            try:
                chunk.append(parse_record(row, record))
            except RowError as error:
                result.add_error(row, error.field, error.message)
            if len(chunk) >= batch_size:
                _check_chunk(chunk, lookups, heads, result)
                chunk = []
                if progress:
                    progress(result.rows, False)
        _check_chunk(chunk, lookups, heads, result)
    except RowError as error:  # a bad header row
        result.add_error(1, error.field, error.message)
    _check_numbers_unused(heads, result)
    result.orders = len(heads)
    result.lines = sum(head.lines for head in heads.values())
    if result.error_count or dry_run or not heads:
        return result
    if progress:
        progress(result.rows, True)
    result.lines = 0
    _write(rows=rows, heads=heads, lookups=lookups, user=user, result=result, batch_size=batch_size)
    return result


def _check_chunk(
    chunk: list[Line], lookups: _Lookups, heads: dict[str, OrderHead], result: ImportResult
) -> None:
    if not chunk:
        return
    lookups.load(chunk)
    for line in chunk:
        error = _reference_error(line, lookups)
        if error is None:
            head = heads.get(line.number)
            if head is None:
                head = heads[line.number] = OrderHead(pk=uuid.uuid4(), first=line)
            error = _consistency_error(line, head.first)
            if error is None:
                head.subtotal += line.amount
                head.lines += 1
        if error is not None:
            result.add_error(line.row, *error)


def _reference_error(line: Line, lookups: _Lookups) -> tuple[str, str] | None:
    known = lookups.customers.get(line.customer)
    if known == NOT_YOURS:
        return "customer_external_id", _("Customer “%(value)s” is not one of yours.") % {
            "value": line.customer
        }
    if known is None and not lookups.create_customers:
        return "customer_external_id", _(
            "Unknown customer “%(value)s” (tick “create unknown customers” to add it)."
        ) % {"value": line.customer}
    if line.sku and lookups.products.get(line.sku) is None:
        return "sku", _("Unknown product SKU “%(value)s”.") % {"value": line.sku}
    if not line.sku and line.category.lower() not in lookups.categories:
        return "category", _("Unknown category “%(value)s”.") % {"value": line.category}
    return None


def _consistency_error(line: Line, first: Line) -> tuple[str, str] | None:
    for name in ("customer", "ordered_at", "channel", "currency", "status"):
        if getattr(line, name) != getattr(first, name):
            column = {"customer": "customer_external_id", "ordered_at": "order_date"}.get(name, name)
            return column, _("Order %(number)s: %(column)s differs from its first line (row %(row)s).") % {
                "number": line.number,
                "column": column,
                "row": first.row,
            }
    return None


def _check_numbers_unused(heads: dict[str, OrderHead], result: ImportResult) -> None:
    numbers = list(heads)
    for start in range(0, len(numbers), 1000):
        for number in SalesOrder.objects.filter(number__in=numbers[start : start + 1000]).values_list(
            "number", flat=True
        ):
            result.add_error(
                heads[number].first.row,
                "order_number",
                _("Order number %(number)s already exists.") % {"number": number},
            )


@atomic
def _write(
    *,
    rows: Callable[[], Iterator[tuple[int, dict[str, Any]]]],
    heads: dict[str, OrderHead],
    lookups: _Lookups,
    user: Any,
    result: ImportResult,
    batch_size: int,
) -> None:
    from customers.services import customers_bulk_create_minimal

    missing = {head.first.customer: head.first.customer_name for head in heads.values()}
    missing = {key: name for key, name in missing.items() if lookups.customers.get(key) is None}
    if missing:
        created = customers_bulk_create_minimal(
            rows=[{"external_id": key, "name": name or key} for key, name in missing.items()], owner=user
        )
        lookups.customers.update(created)
        result.customers_created = len(missing)
    orders = []
    for number, head in heads.items():
        first = head.first
        orders.append(
            SalesOrder(
                pk=head.pk,
                number=number,
                customer_id=lookups.customers[first.customer],
                owner=user,
                status=first.status,
                channel=first.channel,
                ordered_at=first.ordered_at,
                currency=first.currency,
                subtotal=head.subtotal,
                total=head.subtotal,
                notes=_("Imported"),
            )
        )
        if len(orders) >= batch_size:
            SalesOrder.objects.bulk_create(orders)
            orders = []
    SalesOrder.objects.bulk_create(orders)
    result.orders = len(heads)
    lines: list[OrderLine] = []
    for row, record in rows():
        line = parse_record(row, record)
        unit_price, discount = _line_prices(line.quantity, line.amount)
        product = lookups.products.get(line.sku) if line.sku else None
        lines.append(
            OrderLine(
                order_id=heads[line.number].pk,
                product_id=product[0] if product else None,
                category_id=product[1] if product else lookups.categories[line.category.lower()],
                sku=line.sku,
                quantity=line.quantity,
                unit_price=unit_price,
                discount=discount,
                line_total=line.amount,
            )
        )
        if len(lines) >= batch_size:
            OrderLine.objects.bulk_create(lines)
            result.lines += len(lines)
            lines = []
    OrderLine.objects.bulk_create(lines)
    result.lines += len(lines)
    result.written = True
    customers_touched(
        sender=SalesOrder, customer_ids={lookups.customers[h.first.customer] for h in heads.values()}
    )


def order_import_start(
    *, user: Any, uploaded_file: UploadedFile, dry_run: bool = True, create_customers: bool = False
) -> OrderImport:
    """Store the upload and run the import in the background (after this transaction commits)."""
    from orders.tasks import order_import_run_task

    job = OrderImport(
        owner=user,
        original_name=uploaded_file.name[:200],
        dry_run=dry_run,
        create_customers=create_customers,
    )
    job.file.save(f"{uuid.uuid4().hex}-{uploaded_file.name[-80:]}", uploaded_file, save=False)
    job.full_clean()
    job.save()
    on_commit(lambda: order_import_run_task.delay(str(job.pk)))
    return job


def order_import_run(*, import_id: Any) -> OrderImport:
    """Run (or re-run after a crash) one stored import; a finished import is left alone (idempotent)."""
    job = OrderImport.objects.select_related("owner").get(pk=import_id)
    if job.status in OrderImport.FINISHED:
        return job

    def progress(count: int, writing: bool) -> None:
        # Visible to the progress page at once: this runs outside the write transaction.
        status = OrderImport.Status.WRITING if writing else OrderImport.Status.VALIDATING
        OrderImport.objects.filter(pk=job.pk).update(status=status, processed_rows=count, total_rows=count)

    job.status = OrderImport.Status.VALIDATING
    job.save(update_fields=["status", "updated_at"])
    source = row_source(job.file.path, job.original_name)
    try:
        result = orders_import(
            rows=source,
            user=job.owner,
            dry_run=job.dry_run,
            create_customers=job.create_customers,
            progress=progress,
        )
    except DatabaseError:
        raise  # transient: the task retries; the transaction rolled back so a rerun starts clean
    except Exception as error:  # noqa: BLE001 - an unreadable file: tell the user instead of retrying
        OrderImport.objects.filter(pk=job.pk).update(
            status=OrderImport.Status.FAILED,
            errors=[
                {
                    "row": 0,
                    "field": "",
                    "message": _("The file could not be read: %(error)s") % {"error": error},
                }
            ],
            error_count=1,
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    job.total_rows = job.processed_rows = result.rows
    job.errors = result.errors
    job.error_count = result.error_count
    job.orders_created = result.orders if result.written else 0
    job.lines_created = result.lines if result.written else 0
    job.customers_created = result.customers_created
    if result.error_count:
        job.status = OrderImport.Status.FAILED
    else:
        job.status = OrderImport.Status.DONE if result.written else OrderImport.Status.VALID
    job.finished_at = timezone.now()
    job.save()
    return job
