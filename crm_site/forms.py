"""Project-level forms: the global search box, the date bounds every form with dates applies, and a
multiple choice of rows that refuses ids out of the database's range."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.utils.translation import gettext_lazy as _

# Dates every form accepts: the same range on create and edit, on every backend (a year-1 datetime
# overflows when converted to UTC; a year-9999 one when converted back; outside these it is a typo).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)

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


class DateBoundsMixin:
    """Every date and date-time field of the form must lie between EARLIEST_DATE and LATEST_DATE."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            value = cleaned.get(name)
            if not isinstance(field, (forms.DateField, forms.DateTimeField)) or value is None:
                continue
            day = value.date() if isinstance(value, datetime) else value
            if not EARLIEST_DATE <= day <= LATEST_DATE:
                self.add_error(  # type: ignore[attr-defined]
                    name,
                    ValidationError(
                        _("Enter a date between %(earliest)s and %(latest)s."),
                        code="date_out_of_range",
                        params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
                    ),
                )
        return cleaned


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses integer ids the database cannot hold as invalid choices.

    Django guards ``pk=<huge>`` (IntegerFieldOverflow) but not ``pk__in=[<huge>]``: on SQLite a posted
    ``9999…9`` member id raised OverflowError, a server error (issue 13's fuzzing). Use it for every
    multiple choice of rows with integer keys (users, groups).
    """

    def clean(self, value: Any) -> Any:
        queryset = self.queryset
        key = self.to_field_name
        if queryset is not None and isinstance(value, list | tuple):
            model = queryset.model
            field = model._meta.get_field(key) if key else model._meta.pk
            if isinstance(field, models.IntegerField):
                connection = connections[router.db_for_read(model)]
                low, high = connection.ops.integer_field_range(field.get_internal_type())
                for item in value:
                    try:
                        number = int(str(item).strip())
                    except ValueError:
                        continue  # Django's own check says it is not a valid id
                    if (low is not None and number < low) or (high is not None and number > high):
                        raise ValidationError(
                            self.error_messages["invalid_choice"],
                            code="invalid_choice",
                            params={"value": item},
                        )
        return super().clean(value)
