"""Data-subject requests and the suppression list in the admin: read-only (the privacy pages and
services write them; ``customers.services.privacy``)."""

from __future__ import annotations

from django.contrib import admin

from customers.admin_consent import ReadOnlyAdmin
from customers.models import DataSubjectRequest, Suppression


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "law",
        "status",
        "customer",
        "received_at",
        "due_at",
        "completed_at",
        "handled_by",
    ]
    list_filter = ["status", "kind", "law"]
    list_select_related = ["customer", "handled_by"]
    search_fields = ["customer__name", "customer__external_id"]
    raw_id_fields = ["customer"]
    date_hierarchy = "due_at"


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    # Only keyed hashes: nothing here gives an erased person's values back.
    list_display = ["kind", "value_hash", "request", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["request"]
    search_fields = ["value_hash"]
