"""Managers' admin of interactions and follow-ups (scoped by the visibility rule like every admin)."""

from __future__ import annotations

from django.contrib import admin

from crm_site.visibility import VisibleAdminMixin
from sessions_log.models import CannedReply, FollowUp, Interaction


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    fk_name = "interaction"
    extra = 0
    fields = ("title", "due_at", "assignee", "priority", "status")
    autocomplete_fields = ("assignee",)
    show_change_link = True


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
    inlines = [FollowUpInline]


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
