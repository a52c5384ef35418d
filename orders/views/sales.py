"""Sales order pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from crm_site.visibility import CHANGE
from crm_site.web import ActionView
from orders.forms import OrderLineForm, SalesOrderFilterForm, SalesOrderForm, TransitionForm
from orders.models import SalesOrder
from orders.selectors import (
    order_line_get,
    sales_order_get,
    sales_order_lines,
    sales_order_list,
    status_history,
)
from orders.services import sales as services
from orders.views.base import FilteredListMixin, ServiceFormMixin, StaffMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


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
        context["lines"] = sales_order_lines(order=order)
        context["transitions"] = [
            (s, SalesOrder.Status(s).label) for s in services.allowed_transitions(order)
        ]
        context["editable"] = order.status in services.EDITABLE
        context["line_form"] = OrderLineForm()
        context["status_changes"] = status_history(obj=order)
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
        return sales_order_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, form: SalesOrderForm) -> SalesOrder:
        order = sales_order_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        return services.sales_order_update(order=order, **changed) if changed else order

    def get_success_url(self) -> str:
        return _detail(self.object)


class OrderActionView(StaffMixin, ActionView):
    """A button on the order page: acts on one visible order, then back to the order."""

    permission_required = "orders.change_salesorder"

    def get_target(self) -> SalesOrder:
        return sales_order_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def get_success_url(self, target: SalesOrder) -> str:
        return _detail(target)


class SalesOrderTransitionView(OrderActionView):
    """POST: move an order to another status (the buttons on the order page)."""

    form_class = TransitionForm

    def perform(self, target: SalesOrder, data: dict[str, Any]) -> StrOrPromise:
        services.sales_order_transition(order=target, status=data["status"], by=self.request.user)
        return _("Order %(number)s is now %(status)s.") % {
            "number": target.number,
            "status": target.get_status_display(),
        }


class OrderLineAddView(OrderActionView):
    form_class = OrderLineForm

    def perform(self, target: SalesOrder, data: dict[str, Any]) -> StrOrPromise:
        services.order_line_add(order=target, **data)
        return _("Line added.")


class OrderLineRemoveView(OrderActionView):
    def perform(self, target: SalesOrder, data: dict[str, Any]) -> StrOrPromise:
        line = order_line_get(order=target, pk=self.kwargs["line_pk"])
        services.order_line_remove(line=line)
        return _("Line removed.")
