"""An upload of customers from CSV/XLSX and its progress through mapping, dry run and commit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel
from crm_site.visibility import VisibleQuerySet


class CustomerImportQuerySet(VisibleQuerySet):
    """Sales staff see the imports they uploaded; managers see all."""

    visibility_owners = ("created_by",)


class CustomerImport(BaseModel):
    """One import file: its column mapping, validation errors and outcome."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded: map the columns")
        VALIDATING = "validating", _("Checking rows")
        INVALID = "invalid", _("Has invalid rows")
        VALID = "valid", _("Checked: ready to import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL
    )
    file = models.FileField(_("file"), upload_to="customer_imports/")
    original_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=5)
    encoding = models.CharField(_("encoding"), max_length=20, default="utf-8")
    headers = models.JSONField(_("columns in the file"), default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    to_create = models.PositiveIntegerField(_("new customers"), default=0)
    to_update = models.PositiveIntegerField(_("updated customers"), default=0)
    error_count = models.PositiveIntegerField(_("invalid rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)

    objects = CustomerImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("customers:import-detail", kwargs={"pk": self.pk})

    @property
    def progress_key(self) -> str:
        return f"customers:import-progress:{self.pk}"

    @property
    def live_processed_rows(self) -> int:
        """Rows done so far; while importing, from the cache (see customer_import_commit)."""
        if self.status == self.Status.IMPORTING:
            from django.core.cache import cache

            return int(cache.get(self.progress_key) or 0)
        return self.processed_rows

    @property
    def progress_percent(self) -> int:
        done = self.live_processed_rows
        return min(100, int(100 * done / self.total_rows)) if self.total_rows else 0
