"""The status history of sales orders and tickets: who moved one, when, from which status to which."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from crm_site.visibility import VisibleQuerySet


class StatusChangeQuerySet(VisibleQuerySet):
    # A move is visible with the order or ticket it belongs to (by their own rules).
    visibility_via = ("sales_order", "service_order")


class StatusChange(BaseModel):
    """One move along a workflow, of exactly one sales order or one ticket; written by the services only."""

    sales_order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="status_changes",
        verbose_name=_("sales order"),
    )
    service_order = models.ForeignKey(
        "orders.ServiceOrder",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="status_changes",
        verbose_name=_("service order"),
    )
    from_status = models.CharField(_("from status"), max_length=20, blank=True)
    to_status = models.CharField(_("to status"), max_length=20)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["changed_at"]
        indexes = [
            models.Index(fields=["sales_order", "changed_at"]),
            models.Index(fields=["service_order", "changed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '–'} → {self.to_status}"

    def _label(self, value: str) -> str:
        from orders.models.sales import SalesOrder
        from orders.models.tickets import ServiceOrder

        choices = SalesOrder.Status if self.sales_order_id is not None else ServiceOrder.Status
        return str(choices(value).label) if value in choices.values else value or "–"

    @property
    def from_label(self) -> str:
        return self._label(self.from_status)

    @property
    def to_label(self) -> str:
        return self._label(self.to_status)

    def clean(self) -> None:
        if (self.sales_order_id is None) == (self.service_order_id is None):
            raise ValidationError(_("A status change belongs to exactly one sales order or one ticket."))
