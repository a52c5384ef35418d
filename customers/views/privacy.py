"""The data-subject request pages (issue 13): list, new request, detail with export, erase, refuse, complete.

Views stay thin: the selectors (``customers.selectors.privacy``) choose what the user may see (404 for a
request of a customer they cannot read), the services (``customers.services.privacy``) hold the rules.
Who may: the ``customers.*_datasubjectrequest`` permissions (Manager; docs/roles.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, ListView, TemplateView

from crm_site.paging import CountFreePaginator
from crm_site.web import ActionView, StaffMixin, error_text
from customers.forms.privacy import DataRequestFilterForm, DataRequestForm, EraseConfirmForm, RefuseForm
from customers.models import DataSubjectRequest
from customers.selectors.privacy import data_request_get, data_request_list, data_request_overdue
from customers.services.privacy import dsr_complete, dsr_create, dsr_erase, dsr_export, dsr_refuse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def detail_url(request: DataSubjectRequest) -> str:
    return reverse("customers:privacy-request-detail", kwargs={"pk": request.pk})


def privacy_panel(*, customer: Any, user: Any, **kwargs: Any) -> dict[str, Any] | None:
    """The customer page's link to a new data-subject request, for those who may record one."""
    if not user.has_perm("customers.add_datasubjectrequest"):
        return None
    return {}


class DataRequestListView(StaffMixin, ListView):
    permission_required = "customers.view_datasubjectrequest"
    template_name = "customers/privacy/request_list.html"
    context_object_name = "data_requests"
    paginate_by = 25
    paginator_class = CountFreePaginator

    def get_queryset(self) -> Any:
        self.filter_form = DataRequestFilterForm(self.request.GET or None)
        status = self.filter_form.cleaned_data["status"] if self.filter_form.is_valid() else ""
        return data_request_list(user=self.request.user, status=status)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        context["rows"] = [(row, data_request_overdue(row)) for row in context["data_requests"]]
        return context


class DataRequestCreateView(StaffMixin, FormView):
    permission_required = "customers.add_datasubjectrequest"
    template_name = "customers/privacy/request_form.html"

    def get_form(self, form_class: Any = None) -> DataRequestForm:
        return DataRequestForm(**self.get_form_kwargs(), user=self.request.user)

    def get_initial(self) -> dict[str, Any]:
        customer = self.request.GET.get("customer")
        return {"customer": customer} if customer else {}

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            request = dsr_create(user=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Request recorded; due by %(due)s.") % {"due": f"{request.due_at:%Y-%m-%d}"}
        )
        return HttpResponseRedirect(detail_url(request))


class DataRequestDetailView(StaffMixin, TemplateView):
    permission_required = "customers.view_datasubjectrequest"
    template_name = "customers/privacy/request_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request = data_request_get(user=self.request.user, pk=self.kwargs["pk"])
        context.update(
            data_request=request,
            overdue=data_request_overdue(request),
            is_open=request.status
            in (DataSubjectRequest.Status.RECEIVED, DataSubjectRequest.Status.IN_PROGRESS),
            erasures=(request.outcome or {}).get("erased", []),
            exported=(request.outcome or {}).get("exported", {}),
            refuse_form=RefuseForm(),
            can_change=self.request.user.has_perm("customers.change_datasubjectrequest"),
        )
        return context


@method_decorator(never_cache, name="dispatch")  # full values / a person's data: never cached
class DataRequestDownloadView(StaffMixin, View):
    """The export archive (the same request the user may see; 404 when none was made)."""

    permission_required = "customers.view_datasubjectrequest"

    def get(self, request: HttpRequest, pk: Any) -> FileResponse:
        data_request = data_request_get(user=request.user, pk=pk)
        if not data_request.archive:
            raise Http404
        return FileResponse(
            data_request.archive.open("rb"),
            as_attachment=True,
            filename=f"data-request-{data_request.pk}.zip",
        )


class _RequestAction(StaffMixin, ActionView):
    permission_required = "customers.change_datasubjectrequest"

    def get_target(self) -> DataSubjectRequest:
        return data_request_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_success_url(self, target: DataSubjectRequest) -> str:
        return detail_url(target)


class DataRequestExportView(_RequestAction):
    def perform(self, target: DataSubjectRequest, data: dict[str, Any]) -> StrOrPromise:
        dsr_export(request=target, user=self.request.user)
        return _("The export is ready to download.")


class DataRequestRefuseView(_RequestAction):
    form_class = RefuseForm

    def perform(self, target: DataSubjectRequest, data: dict[str, Any]) -> StrOrPromise:
        dsr_refuse(request=target, reason=data["reason"], user=self.request.user)
        return _("Request refused.")


class DataRequestCompleteView(_RequestAction):
    def perform(self, target: DataSubjectRequest, data: dict[str, Any]) -> StrOrPromise:
        dsr_complete(request=target, user=self.request.user)
        return _("Request completed.")


class DataRequestEraseView(StaffMixin, View):
    """GET: the confirmation step; POST (with the box ticked): the erasure."""

    permission_required = "customers.change_datasubjectrequest"
    template_name = "customers/privacy/request_erase.html"

    def _render(
        self, request: HttpRequest, target: DataSubjectRequest, form: EraseConfirmForm
    ) -> HttpResponse:
        return render(request, self.template_name, {"data_request": target, "form": form})

    def get(self, request: HttpRequest, pk: Any) -> HttpResponse:
        return self._render(request, data_request_get(user=request.user, pk=pk), EraseConfirmForm())

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        target = data_request_get(user=request.user, pk=pk)
        form = EraseConfirmForm(request.POST)
        if not form.is_valid():
            return self._render(request, target, form)
        try:
            dsr_erase(request=target, user=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The customer's personal data was erased."))
        return HttpResponseRedirect(detail_url(target))
