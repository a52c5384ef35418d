"""Revealing one masked personal value: ``POST /customers/<pk>/reveal/`` with the field and a reason.

GET (the no-JS path of a "Reveal" link) shows a form asking for the reason; POST reveals and answers
the value as JSON for ``static/js/pii-reveal.js`` (``Accept: application/json``) or as a page. Checks, in
order: login and ``customers.view_customer`` (403), the customer visible to the user (404), then
``customers.reveal_pii_customer`` (403), the reason (400) and the hourly limit (429).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache

from crm_site.web import StaffMixin, form_add_errors, refusal_json, wants_json
from customers.models import Customer
from customers.selectors import customer_get
from customers.selectors.pii import can_reveal_pii
from customers.services.pii import REASON_MAX_LENGTH, pii_reveal


class RevealForm(forms.Form):
    field = forms.CharField(max_length=100, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=REASON_MAX_LENGTH,
        help_text=gettext_lazy("Why you need the full value; it is recorded in the audit trail."),
        error_messages={"required": gettext_lazy("Say why you need to see this value.")},
    )


@method_decorator(never_cache, name="dispatch")  # full values / a person's data: never cached
class CustomerRevealView(StaffMixin, View):
    """One masked value of a customer shown in full, for a reason, audited."""

    permission_required = "customers.view_customer"
    http_method_names = ["get", "post"]
    template_name = "customers/customer_reveal.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)
        except (Http404, PermissionDenied) as refusal:
            if not wants_json(request):
                raise
            return refusal_json(missing=isinstance(refusal, Http404))

    def _customer(self) -> Customer:
        customer = customer_get(user=self.request.user, pk=self.kwargs["pk"])
        if not can_reveal_pii(self.request.user):
            raise PermissionDenied(_("You may not reveal personal data."))
        return customer

    def _page(
        self, customer: Customer, form: RevealForm, *, value: str = "", status: int = 200
    ) -> HttpResponse:
        context = {"customer": customer, "form": form, "value": value}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        customer = self._customer()
        form = RevealForm(initial={"field": request.GET.get("field", "")[:100]})
        return self._page(customer, form)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        customer = self._customer()
        form = RevealForm(request.POST)
        status, value = 400, ""
        if form.is_valid():
            try:
                value = pii_reveal(
                    customer=customer,
                    field=form.cleaned_data["field"],
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                )
            except ValidationError as error:
                status = 429 if getattr(error, "code", None) == "throttled" else 400
                form_add_errors(form, error)
            else:
                status = 200
        if wants_json(request):
            if status == 200:
                return JsonResponse({"ok": True, "value": value, "message": ""})
            errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
            message = " ".join(text for errs in errors.values() for text in errs)
            return JsonResponse({"ok": False, "message": message, "errors": errors}, status=status)
        return self._page(customer, form, value=value, status=status)
