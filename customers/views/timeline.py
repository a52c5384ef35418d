"""The customer timeline page: every app's entries about one customer, newest first, 25 a page.

The sources come from ``crm_site.timeline.timeline_sources`` (each app registers its own), so this view
imports no higher app.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from crm_site.forms import DateBoundsMixin
from crm_site.listing import ListFilterForm, bind, list_filters
from crm_site.timeline import Cursor, timeline_page, timeline_sources
from customers.selectors import customer_get


class TimelineFilterForm(DateBoundsMixin, ListFilterForm):
    kind = forms.MultipleChoiceField(
        label=_("Show"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    date = forms.DateField(
        label=_("Jump to a date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=400)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kind"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(source.key, source.label) for source in timeline_sources.sources()]

    def clean_cursor(self) -> Cursor | None:
        token = self.cleaned_data.get("cursor") or ""
        if not token:
            return None
        cursor = Cursor.decode(token)
        if cursor is None:
            raise forms.ValidationError(_("This page link is broken; start from the newest entries."))
        return cursor


class CustomerTimelineView(LoginRequiredMixin, TemplateView):
    template_name = "customers/customer_timeline.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        customer = customer_get(user=user, pk=kwargs["pk"])
        form = bind(TimelineFilterForm, self.request.GET)
        filters = list_filters(form)
        page = None
        next_query = ""
        if filters is not None:
            cursor = filters.get("cursor")
            if cursor is None and filters.get("date"):
                cursor = Cursor.end_of_day(filters["date"])
            page = timeline_page(customer=customer, user=user, kinds=filters.get("kind"), cursor=cursor)
            if page.next_cursor is not None:
                keep = [("kind", kind) for kind in filters.get("kind", [])]
                next_query = urlencode([*keep, ("cursor", page.next_cursor.encode())])
        return super().get_context_data(
            customer=customer, form=form, page=page, next_query=next_query, **kwargs
        )
