"""Reading and checking order-import files (CSV or XLSX), one row per order line.

Columns (header names are case-insensitive; Chinese headers accepted): customer_external_id, order_number,
order_date, sku or category, quantity, amount; optional customer_name, channel, currency, status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.uploads import DEFAULT_ENCODING, csv_rows, xlsx_rows
from orders.models import OrderLine, SalesOrder
from orders.models.common import MAX_QUANTITY, Currency

COLUMNS = (
    "customer_external_id",
    "customer_name",
    "order_number",
    "order_date",
    "sku",
    "category",
    "quantity",
    "amount",
    "channel",
    "currency",
    "status",
)
REQUIRED = ("customer_external_id", "order_number", "order_date", "quantity", "amount")
ALIASES = {
    "客户编号": "customer_external_id",
    "客户外部编号": "customer_external_id",
    "客户名称": "customer_name",
    "订单号": "order_number",
    "订单编号": "order_number",
    "下单日期": "order_date",
    "订单日期": "order_date",
    "商品编码": "sku",
    "品类": "category",
    "数量": "quantity",
    "金额": "amount",
    "渠道": "channel",
    "币种": "currency",
    "状态": "status",
}
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
)
CHANNELS = {value for value in SalesOrder.Channel.values}
STATUSES = {value for value in SalesOrder.Status.values}


class RowError(Exception):
    """A problem with one cell: carries the column name for the error report."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _max_length(model: Any, name: str) -> int:
    return int(model._meta.get_field(name).max_length)


# Limits of the columns the values are stored in (SQLite does not enforce max_length; the others would 500).
_CUSTOMER = SalesOrder._meta.get_field("customer").related_model
CUSTOMER_ID_MAX = _max_length(_CUSTOMER, "external_id")
CUSTOMER_NAME_MAX = _max_length(_CUSTOMER, "name")
NUMBER_MAX = _max_length(SalesOrder, "number")
SKU_MAX = _max_length(OrderLine, "sku")
MAX_CENTS = 10**14  # amounts below 1,000,000,000,000.00 (14 digits with 2 decimals)
CURRENCIES = frozenset(Currency.values)  # computed once: TextChoices.values rebuilds a list on each call
HUNDRED = Decimal(100)


@dataclass(slots=True)
class Line:
    """One checked row, compact: only the first line of each order is kept whole, the others as numbers."""

    row: int
    customer: str
    customer_name: str
    number: str
    ordered_at: datetime
    sku: str
    category: str
    quantity: int
    cents: int  # the line amount in cents: exact, and cheap to add up and to store in an array
    channel: str
    currency: str
    status: str


def _header(raw: list[Any]) -> list[str]:
    names = []
    repeated: list[str] = []
    for cell in raw:
        text = str(cell or "").strip().lstrip("\ufeff")
        name = ALIASES.get(text, text.lower().replace(" ", "_"))
        if name and name in names and text not in repeated:
            repeated.append(text)
        names.append(name)
    if repeated:
        raise RowError(
            "header",
            _("Column names must be unique; the header row repeats: %(names)s.")
            % {"names": ", ".join(repeated)},
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise RowError(
            missing[0], _("The header row lacks the column(s): %(cols)s.") % {"cols": ", ".join(missing)}
        )
    if "sku" not in names and "category" not in names:
        raise RowError("sku", _("The header row needs a sku or a category column."))
    return names


def row_source(
    path: str | Path, name: str, encoding: str = DEFAULT_ENCODING
) -> Callable[[], Iterator[tuple[int, dict[str, Any]]]]:
    """A function that (re)reads the file from the start, yielding (row number, {column: value}).

    A CSV file is read as ``encoding`` text (``crm_site.uploads``: UTF-8 or GB18030).
    """
    is_xlsx = str(name).lower().endswith((".xlsx", ".xlsm"))

    def read() -> Iterator[tuple[int, dict[str, Any]]]:
        if is_xlsx:
            yield from _records(xlsx_rows(path))
        else:
            yield from _records(csv_rows(path, encoding))

    return read


def check_file(path: str | Path, name: str, encoding: str = DEFAULT_ENCODING) -> None:
    """Read the header row and the first line: UploadError or RowError when the file is unusable."""
    next(iter(row_source(path, name, encoding)()), None)


def _records(rows: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    iterator = iter(rows)
    try:
        names = _header(list(next(iterator)))
    except StopIteration:
        return
    for number, values in enumerate(iterator, start=2):
        if not any(value not in (None, "") for value in values):
            continue
        yield number, dict(zip(names, values, strict=False))


def _required(record: dict[str, Any], field: str) -> str:
    value = str(record.get(field) if record.get(field) is not None else "").strip()
    if not value:
        raise RowError(field, _("%(field)s is required.") % {"field": field})
    return value


def _limited(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise RowError(
            field, _("%(field)s is longer than %(limit)s characters.") % {"field": field, "limit": limit}
        )
    return value


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(12, 0))
    else:
        return _parse_text_datetime(str(value).strip())
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@lru_cache(maxsize=65_536)
def _parse_text_datetime(text: str) -> datetime:
    """Cached: a file of 500,000 lines holds only a few thousand distinct dates."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise RowError(
                "order_date", _("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": text}
            ) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def parse_record(row: int, record: dict[str, Any], now: datetime | None = None) -> Line:
    """Check one record's cells on their own (references to customers/products are checked in bulk later).

    ``now`` is passed in by the import so a 500,000-row file asks for the time once, not per row.
    """
    customer = _limited("customer_external_id", _required(record, "customer_external_id"), CUSTOMER_ID_MAX)
    customer_name = _limited(
        "customer_name", str(record.get("customer_name") or "").strip(), CUSTOMER_NAME_MAX
    )
    number = _limited("order_number", _required(record, "order_number"), NUMBER_MAX)
    ordered_at = parse_datetime(_required(record, "order_date"))
    if ordered_at > (now or timezone.now()):
        raise RowError("order_date", _("The order date lies in the future."))
    sku = _limited("sku", str(record.get("sku") or "").strip(), SKU_MAX)
    category = str(record.get("category") or "").strip()
    if not sku and not category:
        raise RowError("sku", _("Give a product SKU or a category."))
    quantity_text = _required(record, "quantity")
    try:
        quantity = int(quantity_text) if quantity_text.isdigit() else int(Decimal(quantity_text))
        if quantity != Decimal(quantity_text) or not 1 <= quantity <= MAX_QUANTITY:
            raise ValueError
    except (InvalidOperation, ValueError):
        raise RowError(
            "quantity",
            _("“%(value)s” is not a whole number from 1 to %(max)s.")
            % {"value": quantity_text, "max": f"{MAX_QUANTITY:,}"},
        ) from None
    amount_text = _required(record, "amount")
    try:
        # str() first: an XLSX float cell becomes its shortest decimal text, never a binary approximation.
        cents_exact = Decimal(amount_text.replace(",", "")) * HUNDRED
        cents = int(cents_exact)
    except (InvalidOperation, ValueError, OverflowError):
        raise RowError("amount", _("“%(value)s” is not an amount.") % {"value": amount_text}) from None
    if cents != cents_exact or not 0 <= cents < MAX_CENTS:
        raise RowError(
            "amount", _("“%(value)s” must be 0 or more with at most 2 decimals.") % {"value": amount_text}
        )
    channel = str(record.get("channel") or SalesOrder.Channel.STORE).strip().lower()
    if channel not in CHANNELS:
        raise RowError("channel", _("Unknown channel “%(value)s”.") % {"value": channel})
    currency = str(record.get("currency") or "CNY").strip().upper()
    if currency not in CURRENCIES:
        raise RowError("currency", _("Unknown currency “%(value)s”.") % {"value": currency})
    status = str(record.get("status") or SalesOrder.Status.COMPLETED).strip().lower()
    if status not in STATUSES:
        raise RowError("status", _("Unknown status “%(value)s”.") % {"value": status})
    return Line(
        row=row,
        customer=customer,
        customer_name=customer_name,
        number=number,
        ordered_at=ordered_at,
        sku=sku,
        category=category,
        quantity=quantity,
        cents=cents,
        channel=channel,
        currency=currency,
        status=status,
    )
