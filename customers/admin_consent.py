"""The consent ledger in the admin: read-only (records are only added, through the consent service)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from customers.models import ConsentRecord, ConsentState


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "customer",
        "purpose",
        "granted",
        "source",
        "notice_version",
        "recorded_at",
        "recorded_by",
    ]
    list_filter = ["purpose", "granted", "source"]
    list_select_related = ["customer", "recorded_by"]
    search_fields = ["customer__name", "customer__external_id", "evidence"]
    raw_id_fields = ["customer"]


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["customer", "purpose", "granted", "changed_at"]
    list_filter = ["purpose", "granted"]
    list_select_related = ["customer"]
    search_fields = ["customer__name", "customer__external_id"]
    raw_id_fields = ["customer"]
