"""The customer page's consent panel: give or withdraw a consent (one click each) and the ledger history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from crm_site.visibility import CHANGE, allowed
from crm_site.web import ActionView, StaffMixin
from customers.models import ConsentPurpose, ConsentSource, Customer
from customers.selectors import customer_get
from customers.selectors.consent import consent_history, customer_consents
from customers.services.consent import consent_record

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ConsentForm(forms.Form):
    """One consent given or withdrawn: the same fields whichever way it goes."""

    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=ConsentPurpose.choices)
    granted = forms.TypedChoiceField(
        label=gettext_lazy("Answer"),
        choices=[("yes", gettext_lazy("Give")), ("no", gettext_lazy("Withdraw"))],
        coerce=lambda value: value == "yes",
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), choices=ConsentSource.choices, initial=ConsentSource.STAFF
    )
    notice_version = forms.CharField(label=gettext_lazy("Notice version"), required=False, max_length=40)
    evidence = forms.CharField(label=gettext_lazy("Evidence"), required=False, max_length=500)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=255)


def consent_panel(*, customer: Customer, user: Any, **kwargs: Any) -> dict[str, Any]:
    """The panel's context: each purpose's answer; the forms only for users who may change the customer."""
    return {
        "consents": customer_consents(customer=customer),
        "can_change": user.has_perm("customers.change_customer") and allowed(user, customer, CHANGE),
        "sources": ConsentSource.choices,
    }


class ConsentRecordView(StaffMixin, ActionView):
    """POST a consent given or withdrawn for one purpose (404 for a customer the user cannot see)."""

    permission_required = "customers.change_customer"
    form_class = ConsentForm

    def get_target(self) -> Customer:
        return customer_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, target: Customer, data: dict[str, Any]) -> StrOrPromise:
        record = consent_record(customer=target, by=self.request.user, **data)
        if record.granted:
            return _("Consent given: %(purpose)s.") % {"purpose": record.get_purpose_display()}
        return _("Consent withdrawn: %(purpose)s.") % {"purpose": record.get_purpose_display()}


class ConsentHistoryView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """Every record of a customer's consent ledger."""

    permission_required = "customers.view_customer"
    raise_exception = True
    template_name = "customers/customer_consent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        customer = customer_get(user=self.request.user, pk=self.kwargs["pk"])
        context.update(
            customer=customer,
            records=list(consent_history(customer=customer)[:500]),
            consents=customer_consents(customer=customer),
        )
        return context
