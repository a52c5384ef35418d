"""Partners: list, detail, create, edit.

Every staff user with ``customers.view_partner`` sees the directory; only the owner and managers edit a
partner (see ``customers.selectors.partners`` for the rule).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, ListView

from crm_site.listing import FilteredListMixin
from customers.forms import PartnerFilterForm, PartnerForm
from customers.models import Partner
from customers.selectors import (
    partner_contacts,
    partner_customers,
    partner_editable,
    partner_get,
    partner_list,
)
from customers.services import partner_save


class PartnerListView(LoginRequiredMixin, PermissionRequiredMixin, FilteredListMixin, ListView):
    template_name = "customers/partner_list.html"
    context_object_name = "partners"
    paginate_by = 50
    permission_required = "customers.view_partner"
    filter_form_class = PartnerFilterForm
    selector = staticmethod(partner_list)


class PartnerDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    template_name = "customers/partner_detail.html"
    context_object_name = "partner"
    permission_required = "customers.view_partner"

    def get_object(self, queryset: Any = None) -> Partner:
        return partner_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        partner = self.object
        return super().get_context_data(
            can_edit=self.request.user.has_perm("customers.change_partner")
            and partner_editable(user=self.request.user, partner=partner),
            contacts=partner_contacts(partner=partner),
            links=partner_customers(user=self.request.user, partner=partner),
            **kwargs,
        )


class PartnerFormView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """New partner (``customers.add_partner``, owned by its creator) or edit (owner or manager)."""

    template_name = "customers/partner_form.html"
    form_class = PartnerForm

    def get_permission_required(self) -> tuple[str, ...]:
        return ("customers.change_partner",) if "pk" in self.kwargs else ("customers.add_partner",)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.partner: Partner | None = None
        if request.user.is_authenticated and "pk" in kwargs:
            self.partner = partner_get(user=request.user, pk=kwargs["pk"])
            # The directory is visible to all staff, so a 403 tells nobody anything new.
            if not partner_editable(user=request.user, partner=self.partner):
                raise PermissionDenied(_("Only the partner's owner or a manager can change it."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.partner, "user": self.request.user}

    def form_valid(self, form: PartnerForm) -> HttpResponse:
        fields = {name: form.cleaned_data[name] for name in form.fields}
        if self.partner is None and "owner" not in fields:
            fields["owner"] = self.request.user
        try:
            partner = partner_save(partner=self.partner, **fields)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Partner %(name)s saved.") % {"name": partner.name})
        return HttpResponseRedirect(partner.get_absolute_url())
