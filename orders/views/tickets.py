"""Service order (ticket) pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from crm_site.visibility import CHANGE
from crm_site.web import ActionView
from orders.forms import ServiceOrderFilterForm, ServiceOrderForm, TicketTransitionForm
from orders.models import ServiceOrder
from orders.selectors import service_order_get, service_order_list, status_history
from orders.services import tickets as services
from orders.views.base import FilteredListMixin, ServiceFormMixin, StaffMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ServiceOrderListView(FilteredListMixin, ListView):
    permission_required = "orders.view_serviceorder"
    filter_form_class = ServiceOrderFilterForm
    selector = staticmethod(service_order_list)
    template_name = "orders/serviceorder_list.html"
    context_object_name = "tickets"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["statuses"] = ServiceOrder.Status.choices
        context["priorities"] = ServiceOrder.Priority.choices
        return context


class ServiceOrderDetailView(StaffMixin, DetailView):
    permission_required = "orders.view_serviceorder"
    template_name = "orders/serviceorder_detail.html"
    context_object_name = "ticket"

    def get_object(self, queryset: Any = None) -> ServiceOrder:
        return service_order_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        allowed = services.TRANSITIONS[self.object.status]
        form = TicketTransitionForm(initial={"resolution": self.object.resolution})
        status_field = cast(forms.ChoiceField, form.fields["status"])
        status_field.choices = [(s, ServiceOrder.Status(s).label) for s in allowed]
        context["transition_form"] = form if allowed else None
        context["status_changes"] = status_history(obj=self.object)
        return context


class ServiceOrderCreateView(ServiceFormMixin[ServiceOrderForm], CreateView):
    permission_required = "orders.add_serviceorder"
    form_class = ServiceOrderForm
    template_name = "orders/form.html"
    success_message = _("Ticket opened.")
    extra_context = {"title": _("New service order")}

    def get_initial(self) -> dict[str, Any]:
        return {"customer": self.request.GET.get("customer", "")}

    def perform(self, form: ServiceOrderForm) -> ServiceOrder:
        return services.service_order_create(owner=self.request.user, **form.cleaned_data)


class ServiceOrderUpdateView(ServiceFormMixin[ServiceOrderForm], UpdateView):
    permission_required = "orders.change_serviceorder"
    form_class = ServiceOrderForm
    template_name = "orders/form.html"
    success_message = _("Ticket saved.")
    extra_context = {"title": _("Edit service order")}

    def get_object(self, queryset: Any = None) -> ServiceOrder:
        return service_order_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, form: ServiceOrderForm) -> ServiceOrder:
        ticket = service_order_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)
        return services.service_order_update(ticket=ticket, by=self.request.user, **form.cleaned_data)


class ServiceOrderTransitionView(StaffMixin, ActionView):
    permission_required = "orders.change_serviceorder"
    form_class = TicketTransitionForm

    def get_target(self) -> ServiceOrder:
        return service_order_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, target: ServiceOrder, data: dict[str, Any]) -> StrOrPromise:
        services.service_order_transition(ticket=target, by=self.request.user, **data)
        return _("Ticket updated.")
