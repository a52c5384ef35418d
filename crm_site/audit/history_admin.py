"""The admin's History page of an audited record: its audit trail (``CRMAdminSite.register`` adds it)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from crm_site.audit.models import AuditEntry
from crm_site.audit.trail import AUDITED

HISTORY_ROWS = 200


class AuditHistoryAdminMixin:
    """The admin's History page of an audited record shows its audit trail (old and new values)."""

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        model_admin: Any = self
        obj = model_admin.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not model_admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        opts = model_admin.model._meta
        entries = list(
            AuditEntry.objects.filter(model_label=opts.label, object_id=str(obj.pk)).order_by("-at", "-id")[
                :HISTORY_ROWS
            ]
        )
        context = {
            **model_admin.admin_site.each_context(request),
            "title": _("History: %s") % obj,
            "subtitle": None,
            "entries": entries,
            "truncated": len(entries) == HISTORY_ROWS,
            "module_name": str(opts.verbose_name_plural).capitalize(),
            "object": obj,
            "opts": opts,
            "preserved_filters": model_admin.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = model_admin.admin_site.name
        return TemplateResponse(request, "audit/admin_history.html", context)


def with_audit_history(model: Any, admin_class: Any) -> Any:
    """``admin_class`` with the trail's History page when ``model`` is audited (``CRMAdminSite.register``)."""
    if model._meta.label not in AUDITED or issubclass(admin_class, AuditHistoryAdminMixin):
        return admin_class
    return type(
        admin_class.__name__, (AuditHistoryAdminMixin, admin_class), {"__module__": admin_class.__module__}
    )
