"""The customer autocomplete's JSON: the customers the user may see that match what they typed."""

from __future__ import annotations

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpRequest, JsonResponse
from django.views import View

from customers.selectors import customer_choices
from customers.services.pii import contact_search_refused, contact_search_skipped_message

# The most choices one answer carries, whatever ``limit`` asks for.
MAX_CHOICES = 20


class ChoiceQueryForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)
    limit = forms.IntegerField(min_value=1, max_value=MAX_CHOICES, required=False)


class CustomerChoicesView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """GET ?q=text[&limit=n] -> {"results": [{id, name, company, hint, label, url}, ...]} (visible only)."""

    permission_required = "customers.view_customer"
    raise_exception = True

    def get(self, request: HttpRequest) -> JsonResponse:
        form = ChoiceQueryForm(request.GET)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        choices = customer_choices(
            user=request.user, query=form.cleaned_data["q"], limit=form.cleaned_data["limit"] or 10
        )
        answer: dict = {"results": [choice.as_json() for choice in choices]}
        if contact_search_refused(user=request.user, query=form.cleaned_data["q"]):
            answer["notice"] = contact_search_skipped_message()
        return JsonResponse(answer)
