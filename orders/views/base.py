"""Mixins shared by the orders views (``StaffMixin`` itself lives in ``crm_site.web``, for every app)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpResponse, HttpResponseRedirect
from django.views.generic.edit import ModelFormMixin

from crm_site.listing import FilteredListMixin as BaseFilteredListMixin
from crm_site.web import StaffMixin, form_add_errors

_FormT = TypeVar("_FormT", bound=BaseForm)


class FilteredListMixin(StaffMixin, BaseFilteredListMixin):
    """Staff list pages: ``crm_site.listing.FilteredListMixin`` behind the model permission."""


class ServiceFormMixin(StaffMixin, ModelFormMixin, Generic[_FormT]):
    """Create/update views whose ``form_valid`` hands the cleaned data to one service (``perform``).

    Parametrised by the view's form class, e.g. ``ServiceFormMixin[ProjectForm]``.
    """

    success_message: Any = None

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def perform(self, form: _FormT) -> Any:
        raise NotImplementedError

    def form_valid(self, form: _FormT) -> HttpResponse:
        try:
            self.object = self.perform(form)
        except ValidationError as error:
            form_add_errors(form, error)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self) -> str:
        return self.object.get_absolute_url()
