"""Sales orders: creation, lines, Decimal totals and the status workflow."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic
from crm_site.services import UNCHANGED, Unchanged, given, model_update
from crm_site.signals import customers_touched
from orders.models import OrderLine, Product, ProductCategory, SalesOrder
from orders.models.common import CENT, MAX_QUANTITY, ZERO
from orders.services.history import status_change_record

if TYPE_CHECKING:
    from customers.models import Customer

Status = SalesOrder.Status

# draft -> confirmed -> paid -> shipped -> completed; cancel before payment, refund after it.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.CONFIRMED, Status.CANCELLED),
    Status.CONFIRMED: (Status.PAID, Status.CANCELLED),
    Status.PAID: (Status.SHIPPED, Status.REFUNDED),
    Status.SHIPPED: (Status.COMPLETED, Status.REFUNDED),
    Status.COMPLETED: (Status.REFUNDED,),
    Status.CANCELLED: (),
    Status.REFUNDED: (),
}
# Lines and prices may change only before the customer has paid.
EDITABLE = (Status.DRAFT, Status.CONFIRMED)
_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I: read aloud over the phone


def money(value: Any) -> Decimal:
    """Round to cents, half up, the way receipts do; refuses floats so no binary error sneaks in."""
    if isinstance(value, float):
        raise TypeError("money amounts must be Decimal, int or str, not float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(*, quantity: int, unit_price: Decimal, discount: Decimal = ZERO) -> Decimal:
    """quantity × unit price − discount, in exact cents."""
    return money(Decimal(quantity) * money(unit_price) - money(discount))


def order_number_new(*, prefix: str = "SO", on: datetime | None = None) -> str:
    """A unique, human-readable number like ``SO-20260115-7KQ2MX`` (date + random, no counter to race on)."""
    stamp = timezone.localtime(on or timezone.now()).strftime("%Y%m%d")
    suffix = "".join(secrets.choice(_NUMBER_ALPHABET) for _i in range(6))
    return f"{prefix}-{stamp}-{suffix}"


def _check_editable(order: SalesOrder) -> None:
    if order.status not in EDITABLE:
        raise ValidationError(
            _("Order %(number)s is %(status)s: its lines can no longer be changed.")
            % {"number": order.number, "status": order.get_status_display()}
        )


def _build_line(
    *,
    order: SalesOrder,
    product: Product | None,
    category: ProductCategory | None,
    quantity: int,
    unit_price: Decimal | None,
    discount: Decimal,
    description: str,
) -> OrderLine:
    if product is None and category is None:
        raise ValidationError({"product": _("Choose a product or at least a category.")})
    if product is not None:
        if not product.active:
            raise ValidationError(
                {"product": _("Product %(sku)s is not sold any more.") % {"sku": product.sku}}
            )
        category = category or product.category
        if unit_price is None:
            unit_price = product.unit_price
    if unit_price is None:
        raise ValidationError({"unit_price": _("Give a unit price for a line without a product.")})
    if quantity < 1:
        raise ValidationError({"quantity": _("Quantity must be at least 1.")})
    if quantity > MAX_QUANTITY:
        raise ValidationError(
            {"quantity": _("Quantity must be at most %(limit)s.") % {"limit": MAX_QUANTITY}}
        )
    gross = money(Decimal(quantity) * money(unit_price))
    if money(discount) > gross:
        raise ValidationError(
            {"discount": _("The discount cannot exceed the line amount (%(gross)s).") % {"gross": gross}}
        )
    line = OrderLine(
        order=order,
        product=product,
        category=category,
        sku=product.sku if product else "",
        description=description or (product.name if product else ""),
        quantity=quantity,
        unit_price=money(unit_price),
        discount=money(discount),
    )
    line.line_total = line_total(quantity=quantity, unit_price=line.unit_price, discount=line.discount)
    line.full_clean(exclude=["order"])
    return line


def sales_order_recalculate(*, order: SalesOrder) -> SalesOrder:
    """Recompute subtotal and total from the lines in the database."""
    subtotal = sum((money(t) for t in order.lines.values_list("line_total", flat=True)), ZERO)
    if money(order.order_discount) > subtotal:
        raise ValidationError(
            {
                "order_discount": _("The order discount cannot exceed the subtotal (%(subtotal)s).")
                % {"subtotal": subtotal}
            }
        )
    order.subtotal = subtotal
    order.total = money(subtotal - money(order.order_discount))
    order.save(update_fields=["subtotal", "total", "updated_at"])
    return order


@atomic
def sales_order_create(
    *,
    customer: Any,
    owner: Any,
    lines: Iterable[dict[str, Any]] = (),
    channel: str = SalesOrder.Channel.STORE,
    ordered_at: datetime | None = None,
    currency: str = "CNY",
    order_discount: Decimal = ZERO,
    notes: str = "",
    number: str | None = None,
) -> SalesOrder:
    """A new draft order with its lines; totals computed here; profiles refresh after commit."""
    order = SalesOrder(
        number=number or order_number_new(on=ordered_at),
        customer=customer,
        owner=owner,
        channel=channel,
        ordered_at=ordered_at or timezone.now(),
        currency=currency,
        order_discount=money(order_discount),
        notes=notes,
    )
    order.full_clean()
    order.save()
    built = [
        _build_line(
            order=order,
            product=spec.get("product"),
            category=spec.get("category"),
            quantity=int(spec.get("quantity", 1)),
            unit_price=spec.get("unit_price"),
            discount=spec.get("discount", ZERO),
            description=spec.get("description", ""),
        )
        for spec in lines
    ]
    OrderLine.objects.bulk_create(built)
    sales_order_recalculate(order=order)
    customers_touched(sender=SalesOrder, customer_ids=[order.customer_id])
    return order


SALES_ORDER_FIELDS = ["channel", "ordered_at", "currency", "order_discount", "notes", "customer"]


@atomic
def sales_order_update(
    *,
    order: SalesOrder,
    channel: str | Unchanged = UNCHANGED,
    ordered_at: datetime | Unchanged = UNCHANGED,
    currency: str | Unchanged = UNCHANGED,
    order_discount: Decimal | Unchanged = UNCHANGED,
    notes: str | Unchanged = UNCHANGED,
    customer: Customer | Unchanged = UNCHANGED,
) -> SalesOrder:
    """Change header fields (channel, date, currency, discount, notes); totals follow the discount."""
    data = given(channel=channel, ordered_at=ordered_at, currency=currency, notes=notes, customer=customer)
    if not isinstance(order_discount, Unchanged):
        data["order_discount"] = money(order_discount)
    if {"order_discount", "currency", "customer"} & set(data):
        _check_editable(order)
    previous_customer = order.customer_id
    order, has_updated = model_update(instance=order, fields=SALES_ORDER_FIELDS, data=data)
    if has_updated:
        sales_order_recalculate(order=order)
        customers_touched(sender=SalesOrder, customer_ids=[previous_customer, order.customer_id])
    return order


@atomic
def order_line_add(
    *,
    order: SalesOrder,
    product: Product | None = None,
    category: ProductCategory | None = None,
    quantity: int = 1,
    unit_price: Decimal | None = None,
    discount: Decimal = ZERO,
    description: str = "",
) -> OrderLine:
    """Add a line to a draft or confirmed order and recompute its totals."""
    _check_editable(order)
    line = _build_line(
        order=order,
        product=product,
        category=category,
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        description=description,
    )
    line.save()
    sales_order_recalculate(order=order)
    customers_touched(sender=SalesOrder, customer_ids=[order.customer_id])
    return line


@atomic
def order_line_remove(*, line: OrderLine) -> SalesOrder:
    """Remove a line from a draft or confirmed order and recompute its totals."""
    order = line.order
    _check_editable(order)
    line.delete()
    return sales_order_recalculate(order=order)


def allowed_transitions(order: SalesOrder) -> tuple[str, ...]:
    return TRANSITIONS.get(order.status, ())


@atomic
def sales_order_transition(*, order: SalesOrder, status: str, by: Any = None) -> SalesOrder:
    """Move an order along the workflow; an illegal move is refused with a message naming both statuses.

    The move is recorded in the order's status history with ``by`` (the user who moved it).
    """
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status “%(status)s”.") % {"status": status}})
    if status not in allowed_transitions(order):
        allowed = ", ".join(str(Status(s).label) for s in allowed_transitions(order)) or _("none")
        raise ValidationError(
            {
                "status": _(
                    "Order %(number)s cannot go from %(current)s to %(target)s (allowed: %(allowed)s)."
                )
                % {
                    "number": order.number,
                    "current": order.get_status_display(),
                    "target": Status(status).label,
                    "allowed": allowed,
                }
            }
        )
    if status == Status.CONFIRMED and not order.lines.exists():
        raise ValidationError({"status": _("Add at least one line before confirming the order.")})
    previous = order.status
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    status_change_record(obj=order, from_status=previous, to_status=status, by=by)
    customers_touched(sender=SalesOrder, customer_ids=[order.customer_id])
    return order
