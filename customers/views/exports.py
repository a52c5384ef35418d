"""Download the current filtered list as CSV or XLSX."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponseBadRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.exports import csv_response, xlsx_response
from crm_site.listing import bind, errors_text, list_filters
from customers.forms import CustomerFilterForm
from customers.selectors import customer_list
from customers.services.exports import customers_export_csv, customers_export_xlsx


@login_required
@permission_required("customers.export_customer", raise_exception=True)
def customer_export(request: HttpRequest, file_format: str) -> Any:
    form = bind(CustomerFilterForm, request.GET)
    filters = list_filters(form)
    if filters is None:
        return HttpResponseBadRequest(
            _("These filters could not be used: %(errors)s") % {"errors": errors_text(form)},
            content_type="text/plain",
        )
    qs = customer_list(user=request.user, filters=filters)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if file_format == "xlsx":
        return xlsx_response(
            customers_export_xlsx(qs, user=request.user, sort=form.sort_key()),
            filename=f"customers-{stamp}.xlsx",
        )
    rows = customers_export_csv(qs, user=request.user, sort=form.sort_key())
    return csv_response(rows, filename=f"customers-{stamp}.csv")
