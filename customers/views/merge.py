"""Duplicate candidates of a customer and the merge screen."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from crm_site.visibility import CHANGE
from customers.forms import MergeForm
from customers.selectors import (
    customer_duplicates_data,
    customer_get,
    duplicate_groups,
    history_of,
    merged_contacts,
    preferred_survivor,
)
from customers.services import customer_merge
from customers.services.merge import merge_allowed, merge_preview


def mark_mergeable(*, user: Any, rows: list[dict[str, Any]], anchor: Any) -> list[dict[str, Any]]:
    """Set each row's ``can_merge``: the merge link is shown only to whom the merge page would let in."""
    for row in rows:
        row["can_merge"] = user.has_perm("customers.change_customer") and merge_allowed(
            user=user, customers=[anchor, row["customer"]]
        )
    return rows


class DuplicateListView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """Groups of visible customers sharing a phone/email/WeChat value, with what tells them apart."""

    permission_required = "customers.view_customer"

    template_name = "customers/duplicate_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["groups"] = groups = duplicate_groups(user=self.request.user)
        for group in groups:
            mark_mergeable(user=self.request.user, rows=group["rows"], anchor=group["rows"][0]["customer"])
        return context


class CustomerDuplicatesView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    permission_required = "customers.view_customer"
    template_name = "customers/customer_duplicates.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        customer = customer_get(user=self.request.user, pk=self.kwargs["pk"])
        data = customer_duplicates_data(user=self.request.user, customer=customer)
        mark_mergeable(user=self.request.user, rows=data["rows"], anchor=customer)
        context.update(customer=customer, **data)
        return context


class CustomerMergeView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """Merge two duplicates: by default the record with the most history is kept and every field takes
    its rule's value (``customers/merge_rules.py``); the user may choose otherwise and preview first."""

    template_name = "customers/customer_merge.html"
    permission_required = "customers.change_customer"

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.first = customer_get(user=request.user, pk=kwargs["pk"], action=CHANGE)
            self.second = customer_get(user=request.user, pk=kwargs["other"], action=CHANGE)
            if not merge_allowed(user=request.user, customers=[self.first, self.second]):
                raise PermissionDenied(_("Only a manager or the owner of both customers can merge them."))
            self.history = history_of([self.first, self.second])
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class: Any = None) -> MergeForm:
        return MergeForm(
            **self.get_form_kwargs(),
            first=self.first,
            second=self.second,
            survivor=preferred_survivor([self.first, self.second], self.history),
            history=self.history,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form: MergeForm = context["form"]
        # The preview follows what the form says now: its valid answers, else the defaults.
        data = form.cleaned_data if form.is_bound and form.is_valid() else form.initial_choices()
        survivor, loser = form.survivor_and_loser(data)
        context.update(
            survivor=survivor,
            loser=loser,
            history=[(customer, self.history[customer.pk]) for customer in (survivor, loser)],
            preview=merge_preview(survivor, loser, form.choices(data)),
            preview_contacts=merged_contacts(survivor, loser),
        )
        return context

    def form_valid(self, form: MergeForm) -> HttpResponse:
        if "merge" not in self.request.POST:  # "Preview": show the result of these choices, merge nothing
            return self.render_to_response(self.get_context_data(form=form))
        survivor, loser = form.survivor_and_loser()
        try:
            customer_merge(survivor=survivor, loser=loser, choices=form.choices(), by=self.request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Customers merged. The merged record is kept in the audit trail."))
        return HttpResponseRedirect(survivor.get_absolute_url())
