"""Import pages: upload, map columns, dry-run report, commit, progress."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView

from crm_site.paging import CountFreePaginator
from crm_site.web import ActionView
from customers.forms import ImportMappingForm, ImportUploadForm
from customers.importing import TARGETS, guess_mapping
from customers.models import CustomerImport
from customers.selectors import custom_field_definitions, customer_import_get, customer_import_list
from customers.services.imports import (
    customer_import_create,
    customer_import_schedule,
    customer_import_set_mapping,
)


class ImportListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """The user's own import jobs (all for managers): for the roles that create customers."""

    permission_required = "customers.add_customer"
    template_name = "customers/import_list.html"
    context_object_name = "imports"
    paginate_by = 20
    paginator_class = CountFreePaginator

    def get_queryset(self) -> Any:
        return customer_import_list(user=self.request.user)


class ImportCreateView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    template_name = "customers/import_form.html"
    form_class = ImportUploadForm
    permission_required = "customers.add_customer"

    def form_valid(self, form: ImportUploadForm) -> HttpResponse:
        try:
            job = customer_import_create(
                upload=form.cleaned_data["file"],
                encoding=form.cleaned_data.get("encoding") or "utf-8-sig",
                user=self.request.user,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("file", message)
            return self.form_invalid(form)
        return HttpResponseRedirect(job.get_absolute_url())


class ImportDetailView(LoginRequiredMixin, View):
    """The import's state: the mapping form, progress, the dry-run report or the outcome."""

    template_name = "customers/import_detail.html"

    def mapping_form(self, job: CustomerImport, data: Any = None) -> ImportMappingForm:
        targets = dict(TARGETS)
        targets.update({f"cf_{d.key}": d.label for d in custom_field_definitions()})
        initial = job.mapping or guess_mapping(job.headers, targets)
        return ImportMappingForm(data, headers=job.headers, initial_mapping=initial)

    def get(self, request: Any, pk: Any) -> HttpResponse:
        job = customer_import_get(user=request.user, pk=pk)
        return self.render(job, self.mapping_form(job))

    def post(self, request: Any, pk: Any) -> HttpResponse:
        job = customer_import_get(user=request.user, pk=pk)
        if job.status in (
            CustomerImport.Status.VALIDATING,
            CustomerImport.Status.IMPORTING,
            CustomerImport.Status.DONE,
        ):
            messages.warning(request, _("This import can no longer be changed."))
            return HttpResponseRedirect(job.get_absolute_url())
        form = self.mapping_form(job, request.POST)
        if form.is_valid():
            try:
                customer_import_set_mapping(job=job, mapping=form.mapping())
            except ValidationError as exc:
                for field, errors in (
                    exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
                ):
                    form.add_error(field if field in form.fields else None, errors)
            else:
                customer_import_schedule(job=job, step="validate")
                return HttpResponseRedirect(job.get_absolute_url())
        return self.render(job, form)

    def render(self, job: CustomerImport, form: ImportMappingForm) -> HttpResponse:
        errors = CountFreePaginator(job.errors, 100).get_page(self.request.GET.get("page"))
        busy = job.status in (CustomerImport.Status.VALIDATING, CustomerImport.Status.IMPORTING)
        return render(
            self.request,
            self.template_name,
            {"job": job, "form": form, "errors_page": errors, "busy": busy, "page_obj": errors},
        )


class ImportCommitView(LoginRequiredMixin, PermissionRequiredMixin, ActionView):
    permission_required = "customers.add_customer"

    def get_target(self) -> CustomerImport:
        return customer_import_get(user=self.request.user, pk=self.kwargs["pk"])

    def perform(self, target: CustomerImport, data: dict[str, Any]) -> None:
        if target.status != CustomerImport.Status.VALID:
            raise ValidationError(_("Only a checked import without invalid rows can be imported."))
        customer_import_schedule(job=target, step="commit")
