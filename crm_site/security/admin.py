"""Managers reset a user's second factor (a lost phone) from the admin; each reset is logged."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm_site.security.models import TwoFactorDevice
from crm_site.security.two_factor import two_factor_reset
from crm_site.visibility import sees_everything
from crm_site.web import error_text


@admin.register(TwoFactorDevice)
class TwoFactorDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "created_at", "last_used_at"]
    readonly_fields = ["user", "created_at", "last_used_at"]
    actions = ["reset"]

    # Managers and superusers (the admin site's own rule) see and reset devices; nobody adds or edits
    # one here (enrolment is the user's own, with their app), and deleting goes through "reset".
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_everything(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_everything(request.user)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Django drops actions whose permission the user lacks; "reset" is checked in the service.
        actions = super().get_actions(request)
        return actions if sees_everything(request.user) else {}

    @admin.action(description=_("Reset the second factor of the selected users (they enrol again)"))
    def reset(self, request: HttpRequest, queryset: Any) -> None:
        done = 0
        for device in queryset.select_related("user"):
            try:
                two_factor_reset(device=device, by=request.user)
            except ValidationError as error:
                messages.error(request, f"{device.user}: {error_text(error)}")
                continue
            done += 1
        if done:
            messages.success(request, _("Second factor reset for %(count)d users.") % {"count": done})
