"""The list base: every list page validates its query string through a form before its selector runs.

A list page declares a ``ListFilterForm`` subclass (its filters, sort and cursor as form fields) and reads
its filters through ``list_filters``. A malformed value (a garbage cursor, a customer that is not a
UUID, a date like 2024-13-45, an unknown choice) makes the form invalid: the page answers 200 with the
form's errors and no rows, and the selector is never called with the bad value (never a 500).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.views.generic.list import MultipleObjectMixin

from crm_site.paging import CountFreePaginator

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


class FilteredListMixin(MultipleObjectMixin):
    """A ListView's list from a selector, filtered through ``filter_form_class``, paged without a COUNT.

    An invalid query string shows the form's errors over an empty list: the selector never sees it.
    Set ``selector`` (called as ``selector(user=..., filters=...)``) or override ``select``. The context
    gets ``filter_form`` and ``page_query`` (the query string without ``page``, for the page links).
    """

    request: HttpRequest
    paginate_by = 25
    paginator_class = CountFreePaginator
    selector: Any = None
    filter_form_class: type[ListFilterForm] = ListFilterForm

    def get_filter_form(self) -> ListFilterForm:
        if not hasattr(self, "_filter_form"):
            self._filter_form = bind(self.filter_form_class, self.request.GET)
        return self._filter_form

    def select(self, filters: dict[str, Any]) -> Any:
        return type(self).selector(user=self.request.user, filters=filters)

    def get_queryset(self) -> Any:
        filters = list_filters(self.get_filter_form())
        if filters is None:
            # .none() is lazy: the selector builds its query but nothing runs with the bad input.
            return self.select({}).none()
        return self.select(filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["page_query"] = page_query(self.request.GET)
        context["filters"] = self.request.GET
        context["filter_form"] = self.get_filter_form()
        return context


def page_query(query: Mapping[str, Any]) -> str:
    """The query string minus ``page``, ending in "&" (or empty), to prefix ``page=n`` in page links."""
    params = {key: value for key, value in query.items() if key not in PAGE_KEYS and value}
    return urlencode(params) + "&" if params else ""
