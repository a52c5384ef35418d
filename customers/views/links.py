"""Customer page actions: share with users/teams, add and remove relationships."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView
from django.views.generic.base import ContextMixin

from crm_site.visibility import CHANGE, VIEW, Action
from crm_site.web import ActionView
from customers.forms import RelationshipForm, ShareForm
from customers.models import Customer
from customers.selectors import customer_get, customer_shares, relationship_get, share_target_get
from customers.services import (
    customer_share_with,
    customer_unshare_with,
    relationship_create,
    relationship_delete,
    sharing_allowed,
)


class CustomerMixin(LoginRequiredMixin, ContextMixin):
    """Loads the customer first: someone else's customer answers 404 before any other check."""

    customer: Customer
    request: HttpRequest
    # "change" for the views that edit the customer: one the user only reads answers 403.
    action: Action = VIEW

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            self.customer = customer_get(user=request.user, pk=kwargs["pk"], action=self.action)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(customer=self.customer, **kwargs)


class SharingMixin(CustomerMixin):
    def check_sharing(self) -> None:
        # A user the customer is merely shared with can see it, so a 403 tells them nothing new.
        if not sharing_allowed(user=self.request.user, customer=self.customer):
            raise PermissionDenied(_("Only the owner or a manager can change who sees this customer."))


class CustomerSharingView(SharingMixin, FormView):
    template_name = "customers/customer_sharing.html"
    form_class = ShareForm

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check_sharing()
        return super().get(request, *args, **kwargs)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check_sharing()
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "customer": self.customer}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user_shares, team_shares = customer_shares(customer=self.customer)
        return super().get_context_data(user_shares=user_shares, team_shares=team_shares, **kwargs)

    def form_valid(self, form: ShareForm) -> HttpResponse:
        try:
            customer_share_with(
                customer=self.customer,
                by=self.request.user,
                user=form.cleaned_data["user"],
                group=form.cleaned_data["team"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Sharing saved."))
        return HttpResponseRedirect(reverse("customers:customer-sharing", args=[self.customer.pk]))


class CustomerUnshareView(SharingMixin, ActionView):
    """POST only: stop sharing with one user (``kind`` "user") or one team ("team")."""

    def get_target(self) -> Customer:
        self.check_sharing()
        return self.customer

    def perform(self, target: Customer, data: dict[str, Any]) -> str:
        kind = self.kwargs["kind"]
        found = share_target_get(kind=kind, pk=self.kwargs["target"])
        if kind == "user":
            customer_unshare_with(customer=target, by=self.request.user, user=found)
        else:
            customer_unshare_with(customer=target, by=self.request.user, group=found)
        return _("Sharing removed.")

    def get_success_url(self, target: Customer) -> str:
        return reverse("customers:customer-sharing", args=[target.pk])


class RelationshipCreateView(CustomerMixin, PermissionRequiredMixin, FormView):
    template_name = "customers/relationship_form.html"
    form_class = RelationshipForm
    permission_required = "customers.change_customer"
    action = CHANGE

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "customer": self.customer, "user": self.request.user}

    def form_valid(self, form: RelationshipForm) -> HttpResponse:
        try:
            relationship_create(
                customer=self.customer,
                kind=form.cleaned_data["kind"],
                related_customer=form.cleaned_data["related"],
                partner=form.cleaned_data["partner"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Relationship added."))
        return HttpResponseRedirect(self.customer.get_absolute_url())


class RelationshipDeleteView(CustomerMixin, PermissionRequiredMixin, ActionView):
    """POST only: remove one of this customer's own relationships."""

    permission_required = "customers.change_customer"
    action = CHANGE

    def get_target(self) -> Customer:
        return self.customer

    def perform(self, target: Customer, data: dict[str, Any]) -> str:
        relationship = relationship_get(customer=target, pk=self.kwargs["relationship_pk"])
        relationship_delete(relationship=relationship)
        return _("Relationship removed.")
