"""One formula-neutralising function for every export (customers' list, segment members)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from crm_site.exports import neutralise_cell
from customers.tests.factories import CustomerFactory
from profiles.services.segments import segment_create


def test_segment_export_neutralises_formulas():
    # Moved from profiles/tests/test_views.py (it tested profiles.views.safe_cell, now this one function).
    assert neutralise_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert neutralise_cell("-5") == "'-5"
    assert neutralise_cell("张伟") == "张伟"


def test_neutralise_cell_keeps_numbers_and_empties():
    assert [neutralise_cell(v) for v in (None, 3, -2.5, Decimal("-1.50"))] == ["", 3, -2.5, Decimal("-1.50")]
    assert [neutralise_cell(v) for v in ("+1", "@x", "\tx", "\rx", "a=b")] == [
        "'+1",
        "'@x",
        "'\tx",
        "'\rx",
        "a=b",
    ]


@pytest.mark.django_db
def test_segment_export_neutralises_a_customer_named_like_a_formula(client, sales_user):
    from profiles.tests.test_views import _published

    _published([CustomerFactory(owner=sales_user, name='=HYPERLINK("http://evil")')])
    segment = segment_create(name="Any buyer", rule=[{"field": "frequency", "op": "gte", "value": 1}])
    client.force_login(sales_user)
    response = client.get(reverse("profiles:segment-export", args=[segment.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert '\'=HYPERLINK("http://evil")' in [row[1] for row in rows[1:]]
    assert response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.django_db
def test_customer_export_xlsx_keeps_formula_text_inert(client, sales_user):
    from openpyxl import load_workbook

    CustomerFactory(owner=sales_user, name="+SUM(A1)", company_name="@cmd")
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    assert (row[1], row[5]) == ("'+SUM(A1)", "'@cmd")


def test_a_moment_is_written_in_the_server_time_zone(settings):
    import datetime

    from django.utils import timezone

    settings.TIME_ZONE = "Asia/Shanghai"
    moment = datetime.datetime(2026, 3, 1, 1, 30, 15, 123456, tzinfo=datetime.UTC)
    with timezone.override("Asia/Shanghai"):
        assert neutralise_cell(moment) == datetime.datetime(2026, 3, 1, 9, 30, 15)
    assert neutralise_cell(datetime.date(2026, 3, 1)) == datetime.date(2026, 3, 1)


@pytest.mark.django_db
def test_the_customer_export_shows_created_in_the_server_time_zone(client, sales_user):
    import datetime

    from customers.models import Customer

    customer = CustomerFactory(owner=sales_user, name="Zone")
    Customer.objects.filter(pk=customer.pk).update(
        created_at=datetime.datetime(2026, 3, 1, 20, 0, tzinfo=datetime.UTC)
    )
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-export", args=["csv"]), HTTP_ACCEPT_LANGUAGE="en")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    created = rows[1][rows[0].index("Created")]
    assert created == "2026-03-02 04:00:00"  # Asia/Shanghai (the test settings' TIME_ZONE) is UTC+8
