"""The audit trail in the admin: read-only for everyone (superusers too); History pages: history_admin.py."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm_site.audit.models import AuditEntry, AuditSeal

ENTRY_FIELDS = (
    "at",
    "actor_label",
    "actor_ref",
    "action",
    "model_label",
    "object_id",
    "object_repr",
    "customer_ref",
    "changes",
    "context",
    "digest",
    "seal",
)


class ReadOnlyTrailAdmin(admin.ModelAdmin):
    """Nobody adds, changes or deletes trail rows from the UI: these permissions are always refused."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyTrailAdmin):
    list_display = ["at", "actor_label", "action", "model_label", "object_repr", "via"]
    list_filter = ["action", "model_label", "at"]
    search_fields = ["=object_id", "=customer_ref", "=actor_label", "object_repr"]
    show_full_result_count = False
    fields = readonly_fields = ENTRY_FIELDS

    @admin.display(description=_("how"))
    def via(self, entry: AuditEntry) -> str:
        return str((entry.context or {}).get("via", ""))


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyTrailAdmin):
    list_display = ["seq", "at", "size", "hash"]
    fields = readonly_fields = ("seq", "at", "prev_hash", "hash", "entries")
    show_full_result_count = False

    @admin.display(description=_("entries"))
    def size(self, seal: AuditSeal) -> int:
        return len(seal.entries or [])
