"""Sales order pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from orders.forms import OrderLineForm, SalesOrderFilterForm, SalesOrderForm, TransitionForm
from orders.models import OrderLine, SalesOrder
from orders.selectors import sales_order_get, sales_order_list
from orders.services import sales as services
from orders.views.base import FilteredListMixin, ServiceFormMixin, StaffMixin, form_add_errors


def _detail(order: Any) -> str:
    return reverse("orders:salesorder-detail", args=[order.pk])


class SalesOrderListView(FilteredListMixin, ListView):
    permission_required = "orders.view_salesorder"
    filter_form_class = SalesOrderFilterForm
    selector = staticmethod(sales_order_list)
    template_name = "orders/salesorder_list.html"
    context_object_name = "orders"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["statuses"] = SalesOrder.Status.choices
        context["channels"] = SalesOrder.Channel.choices
        return context


class SalesOrderDetailView(StaffMixin, DetailView):
    permission_required = "orders.view_salesorder"
    template_name = "orders/salesorder_detail.html"
    context_object_name = "order"

    def get_object(self, queryset: Any = None) -> SalesOrder:
        return sales_order_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        order = self.object
        context["lines"] = order.lines.select_related("product", "category")
        context["transitions"] = [
            (s, SalesOrder.Status(s).label) for s in services.allowed_transitions(order)
        ]
        context["editable"] = order.status in services.EDITABLE
        context["line_form"] = OrderLineForm()
        return context


class SalesOrderCreateView(ServiceFormMixin[SalesOrderForm], CreateView):
    permission_required = "orders.add_salesorder"
    form_class = SalesOrderForm
    template_name = "orders/form.html"
    success_message = _("Order created. Add its lines below.")
    extra_context = {"title": _("New sales order")}

    def get_initial(self) -> dict[str, Any]:
        return {"customer": self.request.GET.get("customer", "")}

    def perform(self, form: SalesOrderForm) -> SalesOrder:
        return services.sales_order_create(owner=self.request.user, **form.cleaned_data)

    def get_success_url(self) -> str:
        return _detail(self.object)


class SalesOrderUpdateView(ServiceFormMixin[SalesOrderForm], UpdateView):
    permission_required = "orders.change_salesorder"
    form_class = SalesOrderForm
    template_name = "orders/form.html"
    success_message = _("Order saved.")
    extra_context = {"title": _("Edit sales order")}

    def get_object(self, queryset: Any = None) -> SalesOrder:
        return sales_order_get(user=self.request.user, pk=self.kwargs["pk"])

    def perform(self, form: SalesOrderForm) -> SalesOrder:
        order = sales_order_get(user=self.request.user, pk=self.kwargs["pk"])
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        return services.sales_order_update(order=order, **changed) if changed else order

    def get_success_url(self) -> str:
        return _detail(self.object)


class SalesOrderTransitionView(StaffMixin, View):
    """POST: move an order to another status (the buttons on the order page)."""

    permission_required = "orders.change_salesorder"

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        order = sales_order_get(user=request.user, pk=pk)
        form = TransitionForm(request.POST)
        if form.is_valid():
            try:
                services.sales_order_transition(order=order, status=form.cleaned_data["status"])
                messages.success(
                    request,
                    _("Order %(number)s is now %(status)s.")
                    % {"number": order.number, "status": order.get_status_display()},
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(_detail(order))


class OrderLineAddView(StaffMixin, View):
    permission_required = "orders.change_salesorder"

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        order = sales_order_get(user=request.user, pk=pk)
        form = OrderLineForm(request.POST)
        if form.is_valid():
            try:
                services.order_line_add(order=order, **form.cleaned_data)
                messages.success(request, _("Line added."))
            except ValidationError as error:
                form_add_errors(form, error)
        if form.errors:
            messages.error(
                request,
                "; ".join(
                    f"{form.fields[f].label if f in form.fields else ''} {' '.join(map(str, e))}".strip()
                    for f, e in form.errors.items()
                ),
            )
        return HttpResponseRedirect(_detail(order))


class OrderLineRemoveView(StaffMixin, View):
    permission_required = "orders.change_salesorder"

    def post(self, request: HttpRequest, pk: Any, line_pk: Any) -> HttpResponse:
        order = sales_order_get(user=request.user, pk=pk)
        line = get_object_or_404(OrderLine, pk=line_pk, order=order)
        try:
            services.order_line_remove(line=line)
            messages.success(request, _("Line removed."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(_detail(order))
