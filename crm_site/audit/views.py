"""The History tab of a customer, a sales order or a ticket: who changed what and when, newest first."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from crm_site.audit.selectors import history_entries, history_subject_or_404
from crm_site.paging import keyset_page

PAGE_SIZE = 25


class HistoryView(LoginRequiredMixin, TemplateView):
    """Open to whoever may see the record (404 otherwise); pages by keyset, so any depth costs the same."""

    template_name = "audit/history.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kind = self.kwargs["kind"]
        subject = history_subject_or_404(user=self.request.user, kind=kind, pk=self.kwargs["pk"])
        page = keyset_page(
            history_entries(kind=kind, subject=subject),
            field="at",
            descending=True,
            kind="datetime",
            cursor=self.request.GET.get("cursor"),
            size=PAGE_SIZE,
        )
        return {**super().get_context_data(**kwargs), "subject": subject, "kind": kind, "page": page}
