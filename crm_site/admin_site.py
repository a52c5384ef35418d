"""The admin site: managers and superusers only, with the product's own titles."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import sees_everything


class CRMAdminSite(admin.AdminSite):
    site_header = _("CRM administration")
    site_title = _("CRM admin")
    index_title = _("Records, schedules and runs")

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The admin logs in through the site's login (lockout, second factor), not a form of its own.
        A logged-in user who is not a manager gets 403 (the login page would send them back here)."""
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index"))

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Audited models' admins get the audit trail as their History page (crm_site/audit/admin.py)."""
        from crm_site.audit.history_admin import with_audit_history

        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        for model in models:
            super().register(model, with_audit_history(model, admin_class or admin.ModelAdmin), **options)

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and sees_everything(user))
