"""Products, order imports and the managers' reports."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, DetailView, FormView, ListView, TemplateView, UpdateView

from crm_site.uploads import DEFAULT_ENCODING
from crm_site.visibility import sees_everything
from orders.forms import OrderImportForm, ProductFilterForm, ProductForm
from orders.models import OrderImport, Product
from orders.models.common import Currency
from orders.selectors import import_get, import_list, import_write_progress, product_get, product_list
from orders.selectors import summaries as reports
from orders.selectors.rates import rate_table
from orders.services.catalog import product_create, product_update
from orders.services.import_jobs import order_import_start
from orders.views.base import FilteredListMixin, StaffMixin


class ProductListView(FilteredListMixin, ListView):
    permission_required = "orders.view_product"
    template_name = "orders/product_list.html"
    context_object_name = "products"
    filter_form_class = ProductFilterForm

    def select(self, filters: dict[str, Any]) -> Any:
        # The catalogue is shared by all staff: no per-user scoping.
        return product_list(filters=filters)


class ProductCreateView(StaffMixin, CreateView):
    permission_required = "orders.add_product"
    form_class = ProductForm
    template_name = "orders/form.html"
    extra_context = {"title": _("New product")}

    def form_valid(self, form: ProductForm) -> HttpResponse:
        product_create(**form.cleaned_data)
        messages.success(self.request, _("Product saved."))
        return HttpResponseRedirect(reverse("orders:product-list"))


class ProductUpdateView(StaffMixin, UpdateView):
    permission_required = "orders.change_product"
    form_class = ProductForm
    template_name = "orders/form.html"
    extra_context = {"title": _("Edit product")}

    def get_object(self, queryset: Any = None) -> Product:
        return product_get(pk=self.kwargs["pk"])

    def form_valid(self, form: ProductForm) -> HttpResponse:
        # A fresh read: ModelForm validation already copied the new values onto self.object.
        product_update(product=product_get(pk=self.object.pk), **form.cleaned_data)
        messages.success(self.request, _("Product saved."))
        return HttpResponseRedirect(reverse("orders:product-list"))


class OrderImportCreateView(StaffMixin, FormView):
    permission_required = "orders.add_orderimport"
    form_class = OrderImportForm
    template_name = "orders/import_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["recent"] = import_list(user=self.request.user, limit=10)
        return context

    def form_valid(self, form: OrderImportForm) -> HttpResponse:
        try:
            job = order_import_start(
                user=self.request.user,
                uploaded_file=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                create_customers=form.cleaned_data["create_customers"],
                encoding=form.cleaned_data.get("encoding") or DEFAULT_ENCODING,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", message)
            return self.form_invalid(form)
        return HttpResponseRedirect(job.get_absolute_url())


class OrderImportDetailView(StaffMixin, DetailView):
    """Progress and row errors; refreshes itself (a meta refresh: no JavaScript needed) until finished."""

    permission_required = "orders.view_orderimport"
    template_name = "orders/import_detail.html"
    context_object_name = "job"

    def get_object(self, queryset: Any = None) -> OrderImport:
        return import_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["writing"] = import_write_progress(job=self.object)
        return context


def _chart_month(row: dict[str, Any]) -> str:
    """A chart's month label; the running month says it is not over."""
    return str(_("%(month)s (partial)") % {"month": row["month"]}) if row["partial"] else row["month"]


class ReportsView(LoginRequiredMixin, UserPassesTestMixin, TemplateView):
    """Managers' reports: revenue by month and category, SLA breaches, pipeline by stage."""

    template_name = "orders/reports.html"

    def test_func(self) -> bool:
        return sees_everything(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Empty (the default): every currency, converted into the base currency; a code: that one only.
        currency = self.request.GET.get("currency", "")
        if currency not in Currency.values:
            currency = ""
        rates = rate_table()
        by_month = reports.revenue_by_month(currency=currency or None, rates=rates)
        by_category = reports.revenue_by_category(currency=currency or None, rates=rates)
        sla = reports.sla_breaches_by_priority()
        pipeline = reports.pipeline_by_stage(rates=rates)
        context.update(
            currency=currency,
            shown_currency=currency or rates.base,
            base_currency=rates.base,
            currencies=Currency.choices,
            by_month=by_month,
            by_category=by_category,
            sla=sla,
            pipeline=pipeline,
            chart_data={
                "months": [_chart_month(row) for row in by_month],
                "partialIndex": next((i for i, row in enumerate(by_month) if row["partial"]), None),
                "revenue": [str(row["revenue"].amount) for row in by_month],
                "categories": [row["category"] or str(_("(none)")) for row in by_category],
                "categoryRevenue": [str(row["revenue"].amount) for row in by_category],
                "priorities": [str(row["label"]) for row in sla],
                "breached": [row["breached"] for row in sla],
                "onTime": [row["tickets"] - row["breached"] for row in sla],
                "onTimeLabel": str(_("on time")),
                "breachedLabel": str(_("breached")),
                "stages": [str(row["label"]) for row in pipeline],
                "pipeline": [str(row["amount"].amount) for row in pipeline],
            },
        )
        return context
