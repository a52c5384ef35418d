"""Project-level forms: the global search box."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

# Longer text is no search anyone types: refuse it before any source runs a query.
SEARCH_MAX_LENGTH = 100


class GlobalSearchForm(forms.Form):
    """The navbar's search (GET ``q``): stripped, at most 100 characters, at least one letter or digit."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        error_messages={
            "max_length": _("Search for at most %(limit_value)d characters (this has %(show_value)d).")
        },
    )

    def clean_q(self) -> str:
        text = " ".join(self.cleaned_data["q"].split())
        if text and not any(char.isalnum() for char in text):
            raise forms.ValidationError(
                _("Type at least one letter or digit to search for."), code="no_letters"
            )
        return text
