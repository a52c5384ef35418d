"""Mixins shared by the orders views."""

from __future__ import annotations

from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.generic.edit import ModelFormMixin
from django.views.generic.list import MultipleObjectMixin

from crm_site.listing import ListFilterForm, bind, list_filters

_FormT = TypeVar("_FormT", bound=BaseForm)


def form_add_errors(form: BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, on the named field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            for message in messages_:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class StaffMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Logged-in staff holding the model permission; the object scoping lives in the selectors."""

    # Set by View.setup(); the auth mixins do not declare it.
    request: HttpRequest
    raise_exception = False

    def handle_no_permission(self) -> HttpResponseRedirect:
        if self.request.user.is_authenticated:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return super().handle_no_permission()


class FilteredListMixin(StaffMixin, MultipleObjectMixin):
    """A list from a selector, filtered by the query string, paginated, with the query kept in page links.

    The query string goes through ``filter_form_class`` (a ``crm_site.listing.ListFilterForm``) first: an
    invalid value shows the form's errors over an empty list and the selector never sees it.
    """

    paginate_by = 25
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
        params = {key: value for key, value in self.request.GET.items() if key != "page" and value}
        context["page_query"] = urlencode(params) + "&" if params else ""
        context["filters"] = self.request.GET
        context["filter_form"] = self.get_filter_form()
        return context


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
