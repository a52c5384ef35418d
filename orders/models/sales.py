"""Sales orders and their lines. Amounts are Decimal and computed by services, never in ``save()``."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from orders.models.catalog import Product, ProductCategory
from orders.models.common import Currency, CustomerScopedQuerySet, money_field


class SalesOrder(BaseModel):
    """A customer's purchase: a header with lines, a status workflow and totals."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    class Channel(models.TextChoices):
        STORE = "store", _("Store")
        WEB = "web", _("Web shop")
        APP = "app", _("Mobile app")
        WECHAT = "wechat", _("WeChat")
        PHONE = "phone", _("Phone")

    # The statuses that count as a purchase (revenue, purchase history).
    PURCHASED = (Status.PAID, Status.SHIPPED, Status.COMPLETED)

    number = models.CharField(_("number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="sales_orders",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.STORE)
    ordered_at = models.DateTimeField(_("order date"), default=timezone.now, db_index=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    subtotal = money_field(_("subtotal"), editable=False)
    order_discount = money_field(_("order discount"))
    total = money_field(_("total"), editable=False)
    notes = models.TextField(_("notes"), blank=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-ordered_at", "-number"]
        indexes = [
            models.Index(fields=["customer", "ordered_at"]),
            models.Index(fields=["status", "ordered_at"]),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:salesorder-detail", args=[self.pk])


class OrderLine(BaseModel):
    """One line of a sales order: a product (or just a category) with quantity, price and discount."""

    order = models.ForeignKey(
        SalesOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the product when there is one; imports may name only a category.
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    unit_price = money_field(_("unit price"))
    discount = money_field(_("discount"))
    line_total = money_field(_("line total"), editable=False)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku or self.description}"
