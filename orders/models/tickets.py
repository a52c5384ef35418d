"""Service orders (tickets) with an SLA derived from their priority."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from orders.models.common import CustomerScopedQuerySet


class ServiceOrderQuerySet(CustomerScopedQuerySet):
    visibility_owners = ("owner", "assignee")

    def open(self) -> ServiceOrderQuerySet:
        return self.exclude(status__in=ServiceOrder.CLOSED_STATUSES)


class ServiceOrder(BaseModel):
    """A customer's ticket: complaint, repair, return... answered within the SLA of its priority."""

    class Type(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        REPAIR = "repair", _("Repair")
        RETURN = "return", _("Return")
        CONSULTATION = "consultation", _("Consultation")
        INSTALLATION = "installation", _("Installation")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting for customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    # Time allowed from opening to resolution, per priority.
    SLA = {
        Priority.URGENT: timedelta(hours=4),
        Priority.HIGH: timedelta(hours=24),
        Priority.NORMAL: timedelta(days=3),
        Priority.LOW: timedelta(days=7),
    }
    CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED)

    number = models.CharField(_("number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="service_orders",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    type = models.CharField(_("type"), max_length=14, choices=Type.choices, default=Type.CONSULTATION)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, db_index=True)
    sla_due_at = models.DateTimeField(_("SLA due"), editable=False, null=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    sla_breached = models.BooleanField(_("SLA breached"), default=False, editable=False)
    resolution = models.TextField(_("resolution"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("customer satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (poor) to 5 (excellent)"),
    )

    objects = ServiceOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        ordering = ["-opened_at"]
        # The customer timeline's keyset stream (orders/selectors/timeline.py): newest first, id breaks ties.
        indexes = [models.Index(fields=["customer", "opened_at", "id"], name="orders_ticket_timeline")]
        # Lifts the visibility rule for working tickets (crm_site.visibility.sees_all): Service.
        permissions = [("change_all_serviceorder", _("Can change every service order"))]

    def __str__(self) -> str:
        return f"{self.number} · {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("orders:serviceorder-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES
