"""Import uploads are judged by their bytes, not their names (docs/security.md "Headers and uploads")."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from crm_site.uploads import UploadError, import_format
from customers.models import CustomerImport
from orders.models import OrderImport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return out.getvalue()


ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 60
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60
OLD_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 60


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("people.csv", b"external_id,name\nA1,Ann\n", "csv"),
        ("people", b"external_id,name\nA1,Ann\n", "csv"),
        ("people.csv", _xlsx([["external_id", "name"]]), "xlsx"),  # a workbook named .csv
        ("people.txt", _xlsx([["external_id", "name"]]), "xlsx"),
    ],
)
def test_the_format_comes_from_the_bytes_not_the_name(name, content, expected):
    assert import_format(SimpleUploadedFile(name, content)) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (ELF, "binary file"),
        (PE, "binary file"),
        (b"%PDF-1.7\n...", "binary file"),
        (OLD_XLS, "old Excel (.xls)"),
        (_zip(), "not a readable XLSX file"),
        (b"", "empty"),
    ],
)
def test_programs_archives_and_other_binaries_are_refused_whatever_their_name(content, message):
    with pytest.raises(UploadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_format(SimpleUploadedFile("customers.csv", content))


def test_text_named_xlsx_is_refused_as_not_a_workbook():
    with pytest.raises(UploadError, match="not a readable XLSX file"):
        import_format(SimpleUploadedFile("people.xlsx", b"external_id,name\nA1,Ann\n"))


def test_a_file_over_the_import_limit_is_refused_naming_both_sizes(settings):
    settings.CRM_IMPORT_MAX_BYTES = 1024
    with pytest.raises(UploadError, match="at most 1.0"):
        import_format(SimpleUploadedFile("big.csv", b"a,b\n" * 1000))


def test_the_customer_import_page_refuses_a_program_named_csv_and_reads_a_workbook_named_csv(
    client, sales_user
):
    client.force_login(sales_user)
    url = reverse("customers:import-create")
    refused = client.post(url, {"file": SimpleUploadedFile("list.csv", ELF), "encoding": "utf-8-sig"})
    assert refused.status_code == 200 and "binary file" in refused.content.decode()
    assert not CustomerImport.objects.exists()
    workbook = SimpleUploadedFile("list.csv", _xlsx([["external_id", "name"], ["X1", "Xu"]]))
    response = client.post(url, {"file": workbook, "encoding": "utf-8-sig"})
    assert response.status_code == 302
    job = CustomerImport.objects.get()
    assert job.file_format == "xlsx" and job.headers == ["external_id", "name"]


def test_the_order_import_page_refuses_an_old_xls_named_xlsx(client, sales_user):
    client.force_login(sales_user)
    response = client.post(
        reverse("orders:import-create"),
        {"file": SimpleUploadedFile("orders.xlsx", OLD_XLS), "dry_run": "on", "encoding": "utf-8-sig"},
    )
    assert response.status_code == 200 and "old Excel (.xls)" in response.content.decode()
    assert not OrderImport.objects.exists()
