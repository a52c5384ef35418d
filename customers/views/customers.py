"""Customer list, detail, create/edit and delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.generic import DeleteView, DetailView, FormView, TemplateView
from django.views.generic.base import TemplateResponseMixin

from crm_site.listing import bind, list_filters
from crm_site.registry import customer_panels
from crm_site.visibility import CHANGE
from customers.forms import (
    FORMSET_HELPER,
    AddressFormSet,
    ContactMethodFormSet,
    CustomerFilterForm,
    CustomerForm,
    formset_rows,
)
from customers.models import Customer
from customers.selectors import (
    bounded_count,
    contact_owners,
    customer_detail_data,
    customer_get,
    customer_list,
    customer_page,
    merged_customer_survivor,
)
from customers.services import customer_delete, customer_save, sharing_allowed
from customers.services.pii import contact_search_refused, contact_search_skipped_message

LIST_COUNT_LIMIT = 1000


class CustomerListView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """Search, filter, sort and page through the customers the user may see."""

    permission_required = "customers.view_customer"
    raise_exception = True

    template_name = "customers/customer_list.html"
    page_size = 25

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = bind(CustomerFilterForm, self.request.GET)
        filters = list_filters(form)
        sort = form.sort_key()
        if filters is None:
            # Invalid input: the form shows its errors; the selector never sees the bad values.
            qs = customer_list(user=self.request.user).none()
            filters = {}
        else:
            qs = customer_list(user=self.request.user, filters=filters)
            if contact_search_refused(user=self.request.user, query=filters.get("q") or ""):
                messages.warning(self.request, contact_search_skipped_message())
        page = customer_page(qs, sort=sort, cursor=form.cursor_value(), size=self.page_size)
        if page.is_first and not page.next_cursor:
            # The whole result is on this page: no need for the (capped) count query.
            count, more = len(page.rows), False
        else:
            count, more = bounded_count(qs, limit=LIST_COUNT_LIMIT)
        params = {key: value for key, value in self.request.GET.items() if key != "cursor" and value}
        context.update(
            form=form,
            page=page,
            rows=[(customer, page.tags.get(customer.pk, [])) for customer in page.rows],
            count=count,
            count_is_lower_bound=more,
            query_string=urlencode(params),
            filtered=bool(filters) or bool(form.errors),
            filter_form=form,
            filter_cache_seconds=settings.CUSTOMER_FILTER_CACHE_SECONDS,
        )
        return context


class CustomerDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    permission_required = "customers.view_customer"
    raise_exception = True
    template_name = "customers/customer_detail.html"
    context_object_name = "customer"

    def get_object(self, queryset: Any = None) -> Customer:
        return customer_get(user=self.request.user, pk=self.kwargs["pk"])

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            # A merged-away customer's URL leads to the record it was merged into, if the user sees it.
            survivor = merged_customer_survivor(user=request.user, pk=kwargs["pk"])
            if survivor is None:
                raise
            messages.info(request, _("That customer was merged into %(name)s.") % {"name": survivor.name})
            return HttpResponseRedirect(survivor.get_absolute_url())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        customer, user = self.object, self.request.user
        context.update(customer_detail_data(user=user, customer=customer))
        context.update(
            can_share=sharing_allowed(user=user, customer=customer),
            panels=customer_panels.render_contexts(customer=customer, user=user),
        )
        return context


class CustomerFormMixin(LoginRequiredMixin, PermissionRequiredMixin, TemplateResponseMixin):
    """Create and edit share one page: the customer form plus inline contact methods and addresses."""

    template_name: str | None = "customers/customer_form.html"
    request: HttpRequest

    def get_instance(self) -> Customer | None:
        return None

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        return self.render(
            CustomerForm(instance=instance, user=request.user),
            ContactMethodFormSet(instance=instance or Customer(), prefix="contacts"),
            AddressFormSet(instance=instance or Customer(), prefix="addresses"),
        )

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        form = CustomerForm(request.POST, instance=instance, user=request.user)
        contacts = ContactMethodFormSet(request.POST, instance=instance or Customer(), prefix="contacts")
        addresses = AddressFormSet(request.POST, instance=instance or Customer(), prefix="addresses")
        if form.is_valid() and contacts.is_valid() and addresses.is_valid():
            try:
                customer = customer_save(
                    customer=instance,
                    fields=form.service_fields(),
                    contact_methods=formset_rows(contacts),
                    addresses=formset_rows(addresses),
                    tags=form.tag_list(),
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
                self.warn_of_duplicates(customer)
                return HttpResponseRedirect(customer.get_absolute_url())
        return self.render(form, contacts, addresses)

    def warn_of_duplicates(self, customer: Customer) -> None:
        """A warning, not a block: other customers the user sees already have this phone or email."""
        owners = contact_owners(user=self.request.user, customer=customer)
        if not owners:
            return
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a> ({})',
            (
                (owner["customer"].get_absolute_url(), owner["customer"].name, ", ".join(owner["values"]))
                for owner in owners
            ),
        )
        messages.warning(
            self.request,
            format_html(
                '{} {} <a href="{}">{}</a>',
                _("The same phone number or email address belongs to:"),
                links,
                reverse("customers:customer-duplicates", args=[customer.pk]),
                _("Compare and merge"),
            ),
        )

    def render(self, form: CustomerForm, contacts: Any, addresses: Any) -> HttpResponse:
        from django.shortcuts import render

        return render(
            self.request,
            self.get_template_names(),
            {
                "form": form,
                "contacts": contacts,
                "addresses": addresses,
                "formset_helper": FORMSET_HELPER,
                "customer": self.get_instance(),
            },
        )


class CustomerCreateView(CustomerFormMixin, FormView):
    permission_required = "customers.add_customer"


class CustomerUpdateView(CustomerFormMixin, FormView):
    permission_required = "customers.change_customer"

    def get_instance(self) -> Customer:
        if not hasattr(self, "_instance"):
            self._instance = customer_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)
        return self._instance


class CustomerDeleteView(LoginRequiredMixin, PermissionRequiredMixin, DeleteView):
    template_name = "customers/customer_confirm_delete.html"
    context_object_name = "customer"
    success_url = reverse_lazy("customers:index")

    permission_required = "customers.delete_customer"

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Look the customer up first: someone else's customer is a 404, not a 403 that confirms it exists.
        if request.user.is_authenticated:
            customer_get(user=request.user, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, queryset: Any = None) -> Customer:
        return customer_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def form_valid(self, form: Any) -> HttpResponse:
        name = self.object.name
        customer_delete(customer=self.object)
        messages.success(self.request, _("Customer %(name)s deleted.") % {"name": name})
        return HttpResponseRedirect(reverse("customers:index"))
