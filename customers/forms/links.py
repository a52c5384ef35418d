"""Forms on the customer page: share with a user or team, link to another customer or a partner."""

from __future__ import annotations

from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from customers.forms.choice import CustomerChoiceField
from customers.models import Customer, Partner, Relationship


class ShareForm(forms.Form):
    """Pick one staff user or one team."""

    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False, label=_("User"))
    team = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), required=False, label=_("Team"))

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True)
        if customer.owner_id is not None:
            users = users.exclude(pk=customer.owner_id)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = users.order_by("username")
        self.helper = FormHelper()
        self.helper.add_input(Submit("share", _("Share")))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if bool(data.get("user")) == bool(data.get("team")):
            raise forms.ValidationError(_("Choose either a user or a team."))
        return data


class RelationshipForm(forms.Form):
    """A link to another customer (found by name, phone, email or external id) or to a partner."""

    kind = forms.ChoiceField(choices=Relationship.Kind.choices, label=_("Kind"))
    related = CustomerChoiceField(required=False, label=_("Related customer"))
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.order_by("name"), required=False, label=_("Partner")
    )
    note = forms.CharField(max_length=255, required=False, label=_("Note"))

    def __init__(self, *args: Any, customer: Customer, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer, self.user = customer, user
        cast(CustomerChoiceField, self.fields["related"]).user = user
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Add relationship")))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        if bool(data.get("related")) == bool(data.get("partner")):
            raise forms.ValidationError(_("Enter either a related customer or a partner."))
        return data
