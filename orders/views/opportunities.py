"""Opportunity pages and the pipeline board."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, DetailView, ListView, TemplateView, UpdateView

from crm_site.visibility import CHANGE
from crm_site.web import ActionView
from orders.forms import OpportunityFilterForm, OpportunityForm, OpportunityMoveForm
from orders.models import Opportunity
from orders.selectors import opportunity_board, opportunity_get, opportunity_list
from orders.services import opportunities as services
from orders.views.base import FilteredListMixin, ServiceFormMixin, StaffMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class OpportunityListView(FilteredListMixin, ListView):
    permission_required = "orders.view_opportunity"
    filter_form_class = OpportunityFilterForm
    selector = staticmethod(opportunity_list)
    template_name = "orders/opportunity_list.html"
    context_object_name = "opportunities"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["stages"] = Opportunity.Stage.choices
        return context


class OpportunityBoardView(StaffMixin, TemplateView):
    permission_required = "orders.view_opportunity"
    template_name = "orders/opportunity_board.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["columns"] = opportunity_board(user=self.request.user)
        context["stages"] = Opportunity.Stage.choices
        return context


class OpportunityDetailView(StaffMixin, DetailView):
    permission_required = "orders.view_opportunity"
    template_name = "orders/opportunity_detail.html"
    context_object_name = "opportunity"

    def get_object(self, queryset: Any = None) -> Opportunity:
        return opportunity_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["stages"] = Opportunity.Stage.choices
        return context


class OpportunityCreateView(ServiceFormMixin[OpportunityForm], CreateView):
    permission_required = "orders.add_opportunity"
    form_class = OpportunityForm
    template_name = "orders/form.html"
    success_message = _("Opportunity created.")
    extra_context = {"title": _("New opportunity")}

    def get_initial(self) -> dict[str, Any]:
        return {"customer": self.request.GET.get("customer", "")}

    def perform(self, form: OpportunityForm) -> Opportunity:
        return services.opportunity_create(owner=self.request.user, **form.cleaned_data)


class OpportunityUpdateView(ServiceFormMixin[OpportunityForm], UpdateView):
    permission_required = "orders.change_opportunity"
    form_class = OpportunityForm
    template_name = "orders/form.html"
    success_message = _("Opportunity saved.")
    extra_context = {"title": _("Edit opportunity")}

    def get_object(self, queryset: Any = None) -> Opportunity:
        return opportunity_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, form: OpportunityForm) -> Opportunity:
        opportunity = opportunity_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)
        return services.opportunity_update(opportunity=opportunity, **form.cleaned_data)


class OpportunityMoveView(StaffMixin, ActionView):
    """POST: move a card to another stage; the board's form (and its drag and drop) posts here."""

    permission_required = "orders.change_opportunity"
    form_class = OpportunityMoveForm

    def get_target(self) -> Opportunity:
        return opportunity_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, target: Opportunity, data: dict[str, Any]) -> StrOrPromise:
        services.opportunity_move(opportunity=target, **data)
        return _("“%(name)s” moved to %(stage)s.") % {
            "name": target.name,
            "stage": target.get_stage_display(),
        }

    def get_success_url(self, target: Opportunity) -> str:
        # Back to the board unless the form names a (local) page to return to.
        return reverse("orders:opportunity-board")
