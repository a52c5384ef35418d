"""Admin for the marketing module (managers): campaigns and variants editable, the ledgers read-only.

The status moves only through the workflow (actions that call ``campaign_transition``), never by editing
the field; assignments, deliveries and touches are written by the services and the tracker alone.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import VisibleAdminMixin
from marketing.models import Assignment, Campaign, Delivery, Touch, Variant
from marketing.services.campaigns import campaign_transition

Status = Campaign.Status


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("key", "subject", "share", "body")


def _transition_action(status: str, label: Any) -> Any:
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for campaign in queryset:
            try:
                campaign_transition(campaign=campaign, status=status)
                done += 1
            except ValidationError as error:
                modeladmin.message_user(request, " ".join(error.messages), messages.WARNING)
        modeladmin.message_user(request, _("%(count)d campaigns updated.") % {"count": done})

    action.__name__ = f"mark_{status}"
    action.short_description = label  # type: ignore[attr-defined]
    return action


@admin.register(Campaign)
class CampaignAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "channel", "status", "segment", "scheduled_at", "holdout_share", "owner")
    list_filter = ("status", "channel")
    list_select_related = ("segment", "owner")
    search_fields = ("name",)
    autocomplete_fields = ("segment", "owner")
    readonly_fields = ("status", "seed", "segment_name", "created_at", "updated_at")
    inlines = [VariantInline]
    actions = [
        _transition_action(Status.SCHEDULED, _("Schedule")),
        _transition_action(Status.DRAFT, _("Back to draft")),
        _transition_action(Status.PAUSED, _("Pause")),
        _transition_action(Status.SENDING, _("Resume sending")),
        _transition_action(Status.CANCELLED, _("Cancel")),
    ]


class ReadOnlyAdmin(VisibleAdminMixin, admin.ModelAdmin):
    """Shown to managers, never written here: the services keep these ledgers."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "customer", "arm", "assigned_at")
    list_filter = ("arm",)
    list_select_related = ("campaign", "customer")
    raw_id_fields = ("campaign", "customer")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "customer", "variant", "channel", "status", "sent_at")
    list_filter = ("status", "channel")
    list_select_related = ("campaign", "customer", "variant")
    raw_id_fields = ("campaign", "customer", "variant")


@admin.register(Touch)
class TouchAdmin(ReadOnlyAdmin):
    list_display = ("delivery", "kind", "occurred_at", "is_machine")
    list_filter = ("kind", "is_machine")
    list_select_related = ("delivery",)
    raw_id_fields = ("delivery",)
