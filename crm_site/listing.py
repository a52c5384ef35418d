"""The list base: every list page validates its query string through a form before its selector runs.

A list page declares a ``ListFilterForm`` subclass (its filters, sort and cursor as form fields) and reads
its filters through ``list_filters``. A malformed value (a garbage cursor, a customer that is not a
UUID, a date like 2024-13-45, an unknown choice) makes the form invalid: the page answers 200 with the
form's errors and no rows, and the selector is never called with the bad value (never a 500).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django import forms
from django.utils.translation import gettext_lazy as _

# Query-string keys that belong to the page, not to the filters.
PAGE_KEYS = ("page",)


class ListFilterForm(forms.Form):
    """Base of the list pages' GET forms: every field optional, ``filters()`` gives the selector input."""

    # Query-string values longer than this are refused before any field parses them.
    max_value_length = 1000

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for key, value in self.data.items() if hasattr(self.data, "items") else ():
            if isinstance(value, str) and len(value) > self.max_value_length:
                raise forms.ValidationError(
                    _("The value of “%(key)s” is too long."), code="too_long", params={"key": key[:40]}
                )
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The non-empty cleaned values (call only when the form is valid)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "", [], ()) and value is not False
        }


def query_invalid(form: forms.Form) -> bool:
    """True when a list page's bound form rejects its query string (the page then lists nothing)."""
    return form.is_bound and not form.is_valid()


def list_filters(form: ListFilterForm) -> dict[str, Any] | None:
    """The selector filters of a list page's form: {} when unbound, None when the input is invalid.

    None means "do not run the selector": the view shows the form's errors and an empty list.
    """
    if query_invalid(form):
        return None
    return form.filters() if form.is_bound else {}


def errors_text(form: forms.Form) -> str:
    """The form's errors on one line ("field: message; ..."), for answers that are not a page (400s)."""
    return "; ".join(f"{key}: {' '.join(str(m) for m in messages)}" for key, messages in form.errors.items())


_FormT = TypeVar("_FormT", bound=ListFilterForm)


def bind(form_class: type[_FormT], query: Mapping[str, Any], **kwargs: Any) -> _FormT:
    """The list form bound to the query string (unbound when there is nothing but page keys)."""
    data = {key: value for key, value in query.items() if key not in PAGE_KEYS}
    return form_class(query if data else None, **kwargs)
