"""Managers' admin of interactions and follow-ups (scoped by the visibility rule like every admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import VisibleAdminMixin
from sessions_log.models import Attachment, CannedReply, DigestSent, FollowUp, Interaction


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    fk_name = "interaction"
    extra = 0
    fields = ("title", "due_at", "assignee", "priority", "status")
    autocomplete_fields = ("assignee",)
    show_change_link = True


def _file_link(obj: Attachment) -> str:
    # The download view (the visibility rule, served as a download), never the storage's own URL.
    if obj.pk is None:
        return "—"
    return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.name)


def _file_size(obj: Attachment) -> str:
    return filesizeformat(obj.size)


_file_link.short_description = _("file")  # type: ignore[attr-defined]
_file_size.short_description = _("size")  # type: ignore[attr-defined]


class AttachmentInline(admin.TabularInline):
    """The interaction's files, read-only (they are added through the site's forms and mail in)."""

    model = Attachment
    fk_name = "interaction"
    extra = 0
    fields = (_file_link, "content_type", _file_size, "uploaded_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(VisibleAdminMixin, admin.ModelAdmin):
    """Every file on interactions and unmatched items (read-only; removing one deletes its stored file)."""

    list_display = (
        "name",
        _file_link,
        "content_type",
        _file_size,
        "interaction",
        "unmatched",
        "uploaded_by",
        "created_at",
    )
    list_filter = ("content_type",)
    list_select_related = ("interaction", "unmatched", "uploaded_by")
    search_fields = ("name",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        _file_link,
        "name",
        "content_type",
        _file_size,
        "interaction",
        "unmatched",
        "uploaded_by",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Interaction)
class InteractionAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "channel", "direction", "customer", "subject", "outcome", "staff")
    list_filter = ("channel", "direction", "outcome", "delivery_status")
    list_select_related = ("customer", "staff")
    search_fields = ("subject", "customer__name", "customer__external_id")
    autocomplete_fields = ("customer", "staff", "sales_order", "service_order", "project")
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    readonly_fields = ("email_to", "message_id", "delivery_status", "delivery_error")
    inlines = [FollowUpInline, AttachmentInline]


@admin.register(FollowUp)
class FollowUpAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("due_at", "title", "customer", "assignee", "priority", "status", "done_at")
    list_filter = ("status", "priority")
    list_select_related = ("customer", "assignee")
    search_fields = ("title", "customer__name")
    autocomplete_fields = ("customer", "assignee", "created_by", "interaction", "previous")
    date_hierarchy = "due_at"
    show_full_result_count = False
    readonly_fields = ("done_at",)


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    """Canned replies for email out, one per name and language (placeholders: see the body's help)."""

    list_display = ("name", "language", "subject", "is_active", "updated_at")
    list_filter = ("language", "is_active")
    search_fields = ("name", "subject", "body")


@admin.register(DigestSent)
class DigestSentAdmin(admin.ModelAdmin):
    """Who got the morning digest on which day (read-only: the digest task writes it)."""

    list_display = ("day", "user", "items", "created_at")
    list_filter = ("day",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    date_hierarchy = "day"
    show_full_result_count = False

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
