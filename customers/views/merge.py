"""Duplicate candidates of a customer and the merge screen."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from customers.forms import MergeForm
from customers.selectors import customer_get, duplicate_candidates, duplicate_groups
from customers.services import customer_merge
from customers.services.merge import merge_field_choices


class DuplicateListView(LoginRequiredMixin, TemplateView):
    """Groups of visible customers sharing a phone/email/WeChat value."""

    template_name = "customers/duplicate_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["groups"] = duplicate_groups(user=self.request.user)
        return context


class CustomerDuplicatesView(LoginRequiredMixin, TemplateView):
    template_name = "customers/customer_duplicates.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        customer = customer_get(user=self.request.user, pk=self.kwargs["pk"])
        context.update(
            customer=customer, candidates=duplicate_candidates(user=self.request.user, customer=customer)
        )
        return context


class CustomerMergeView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """Merge ``other`` (the duplicate) into ``pk`` (the survivor), choosing which values survive."""

    template_name = "customers/customer_merge.html"
    permission_required = "customers.change_customer"

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.survivor = customer_get(user=request.user, pk=kwargs["pk"])
            self.loser = customer_get(user=request.user, pk=kwargs["other"])
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class: Any = None) -> MergeForm:
        return MergeForm(**self.get_form_kwargs(), field_rows=merge_field_choices(self.survivor, self.loser))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(survivor=self.survivor, loser=self.loser)
        return context

    def form_valid(self, form: MergeForm) -> HttpResponse:
        try:
            customer_merge(
                survivor=self.survivor,
                loser=self.loser,
                take_from_loser=form.take_from_loser(),
                by=self.request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Customers merged. The merged record is kept in the audit trail."))
        return HttpResponseRedirect(self.survivor.get_absolute_url())
