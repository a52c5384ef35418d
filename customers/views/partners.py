"""Partners: list, detail, create, edit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, ListView

from customers.forms import PartnerForm
from customers.models import Partner
from customers.services import partner_save


class PartnerListView(LoginRequiredMixin, ListView):
    template_name = "customers/partner_list.html"
    context_object_name = "partners"
    paginate_by = 50

    def get_queryset(self) -> Any:
        qs = Partner.objects.select_related("owner")
        if query := self.request.GET.get("q", "").strip():
            qs = qs.filter(name__icontains=query)
        return qs


class PartnerDetailView(LoginRequiredMixin, DetailView):
    template_name = "customers/partner_detail.html"
    context_object_name = "partner"
    queryset = Partner.objects.select_related("owner")


class PartnerFormView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    template_name = "customers/partner_form.html"
    form_class = PartnerForm
    permission_required = "customers.add_partner"

    def get_partner(self) -> Partner | None:
        if "pk" not in self.kwargs:
            return None
        from django.shortcuts import get_object_or_404

        return get_object_or_404(Partner, pk=self.kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.get_partner()}

    def form_valid(self, form: PartnerForm) -> HttpResponse:
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        partner = self.get_partner()
        if partner is None:
            fields["owner"] = self.request.user
        partner = partner_save(partner=partner, **fields)
        messages.success(self.request, _("Partner %(name)s saved.") % {"name": partner.name})
        return HttpResponseRedirect(partner.get_absolute_url())
