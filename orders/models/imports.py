"""A background order import: the uploaded file, its progress and its row-level errors."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from crm_site.visibility import VisibleQuerySet


class OrderImportQuerySet(VisibleQuerySet):
    """Sales staff see the imports they uploaded; managers see all."""

    visibility_owners = ("owner",)


class OrderImport(BaseModel):
    """One upload of order lines (CSV or XLSX), validated in full before anything is written."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Checking rows")
        WRITING = "writing", _("Writing")
        VALID = "valid", _("Checked, no errors (dry run)")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    FINISHED = (Status.VALID, Status.DONE, Status.FAILED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(_("file"), upload_to="order_imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=True)
    create_customers = models.BooleanField(_("create unknown customers"), default=False)
    encoding = models.CharField(_("encoding"), max_length=20, default="utf-8-sig")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    orders_created = models.PositiveIntegerField(_("orders created"), default=0)
    lines_created = models.PositiveIntegerField(_("lines created"), default=0)
    customers_created = models.PositiveIntegerField(_("customers created"), default=0)
    # [{"row": 12, "field": "quantity", "message": "..."}], capped so a bad file cannot bloat the row.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors found"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = OrderImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name or str(self.pk)

    def get_absolute_url(self) -> str:
        return reverse("orders:import-detail", args=[self.pk])

    @property
    def task_id(self) -> str:
        """The Celery task id of this job's run: fixed, so its progress can be found without storing it."""
        return f"order-import-{self.pk}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in self.FINISHED else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
