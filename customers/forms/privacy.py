"""Forms of the data-subject request pages (issue 13)."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from customers.forms.choice import CustomerChoiceField
from customers.models import ConsentSource, DataSubjectRequest


def _helper(label: Any) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


class DataRequestForm(forms.Form):
    """A request received from a customer: who, what, under which law, how it came in."""

    customer = CustomerChoiceField()
    kind = forms.ChoiceField(label=_("Request"), choices=DataSubjectRequest.Kind.choices)
    law = forms.ChoiceField(
        label=_("Law"), choices=DataSubjectRequest.Law.choices, initial=DataSubjectRequest.Law.PIPL
    )
    received_via = forms.ChoiceField(
        label=_("Received via"), choices=ConsentSource.choices, initial=ConsentSource.EMAIL
    )
    details = forms.CharField(
        label=_("Details"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].user = user  # type: ignore[attr-defined]
        self.helper = _helper(_("Record the request"))


class DataRequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("open", _("Open")), *DataSubjectRequest.Status.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for refusal"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class EraseConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that the customer's personal data is erased for good."),
        required=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
