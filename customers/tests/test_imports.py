import io
import os

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer, CustomerImport
from customers.services.imports import (
    customer_import_commit,
    customer_import_create,
    customer_import_set_mapping,
    customer_import_validate,
)
from customers.tests.factories import CustomerFactory

HEADER = "external_id,name,birth_date,email,mobile,owner,lifecycle_stage,city,tags\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _job(user, content, name="customers.csv", encoding="utf-8-sig"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    job = customer_import_create(upload=SimpleUploadedFile(name, data), encoding=encoding, user=user)
    mapping = {target: target for target in job.headers if target}
    return customer_import_validate(job=customer_import_set_mapping(job=job, mapping=mapping))


@pytest.mark.mongo
@pytest.mark.django_db
def test_import_creates_then_reimport_updates_by_external_id(sales_user):
    content = HEADER + (
        'C1,张三,1980-02-03,zs@example.com,13800000001,sales_a,customer,上海市,"VIP,华东"\n'
        "C2,Li Si,,,+86 139 0000 0002,,lead,,\n"
    )
    job = _job(sales_user, content)
    assert job.status == CustomerImport.Status.VALID and (job.to_create, job.to_update) == (2, 0)
    job = customer_import_commit(job=job)
    assert job.status == CustomerImport.Status.DONE
    first = Customer.objects.get(external_id="C1")
    assert first.contact_methods.count() == 2 and first.addresses.get().city == "上海市"
    assert sorted(first.tags.values_list("name", flat=True)) == ["VIP", "华东"]
    again = _job(sales_user, content.replace("张三", "张三丰"))
    assert (again.to_create, again.to_update) == (0, 2)
    customer_import_commit(job=again)
    assert Customer.objects.count() == 2
    assert Customer.objects.get(external_id="C1").name == "张三丰"
    assert Customer.objects.get(external_id="C1").contact_methods.count() == 2


@pytest.mark.mongo
@pytest.mark.django_db
def test_dry_run_lists_every_bad_row_with_field_and_reason_and_writes_nothing(sales_user):
    CustomerFactory(owner=sales_user, external_id="KEEP", name="Untouched")
    content = HEADER + (
        "A1,Good,1990-01-01,ok@example.com,13800000001,,,,\n"
        "A2,Bad date,1990-13-45,,,,,,\n"
        "A3,Bad mail,,not-an-email,,,,,\n"
        "A4,Bad owner,,,,nobody,,,\n"
        "A1,Duplicate,,,,,,,\n"
        "KEEP,Changed name,,,,,wrongstage,,\n"
    )
    job = _job(sales_user, content)
    assert job.status == CustomerImport.Status.INVALID and job.error_count == 5
    found = {(e["row"], e["field"]) for e in job.errors}
    assert found == {
        (3, "birth_date"),
        (4, "email"),
        (5, "owner"),
        (6, "external_id"),
        (7, "lifecycle_stage"),
    }
    messages = {e["field"]: e["message"] for e in job.errors}
    assert "1990-13-45 is not a date" in messages["birth_date"]
    assert "not-an-email is not a valid email" in messages["email"]
    assert "Unknown owner nobody" in messages["owner"]
    assert "also on row 2" in messages["external_id"]
    with pytest.raises(ValidationError):
        customer_import_commit(job=job)
    assert Customer.objects.count() == 1 and Customer.objects.get().name == "Untouched"


@pytest.mark.django_db
def test_empty_file_is_refused_with_a_message(sales_user):
    with pytest.raises(ValidationError, match="empty"):
        _job(sales_user, "")
    job = _job(sales_user, HEADER)
    assert job.status == CustomerImport.Status.FAILED and "empty" in job.message
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_wrong_encoding_is_refused_with_a_message(sales_user):
    gbk = (HEADER + "G1,王五,,,,,,北京市,\n").encode("gb18030")
    with pytest.raises(ValidationError, match="not valid UTF-8"):
        customer_import_create(
            upload=SimpleUploadedFile("gbk.csv", gbk), encoding="utf-8-sig", user=sales_user
        )
    # The same file read as GB18030 works.
    job = _job(sales_user, gbk, encoding="gb18030")
    assert job.status == CustomerImport.Status.VALID
    customer_import_commit(job=job)
    assert Customer.objects.get(external_id="G1").name == "王五"


@pytest.mark.django_db
def test_ten_megabytes_of_garbage_is_refused_quickly(sales_user):
    garbage = os.urandom(10 * 1024 * 1024)
    for name in ("garbage.csv", "garbage.xlsx"):
        with pytest.raises(ValidationError) as excinfo:
            customer_import_create(
                upload=SimpleUploadedFile(name, garbage), encoding="utf-8-sig", user=sales_user
            )
        assert excinfo.value.messages
    assert not CustomerImport.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db
def test_text_garbage_fails_row_checks_not_the_server(sales_user):
    lines = "\n".join("x" * 50 + f",{i}" for i in range(2000))
    job = customer_import_create(
        upload=SimpleUploadedFile("junk.csv", ("junk,more\n" + lines).encode()),
        encoding="utf-8-sig",
        user=sales_user,
    )
    with pytest.raises(ValidationError, match="name"):
        customer_import_set_mapping(job=job, mapping={})


@pytest.mark.django_db
def test_xlsx_import(sales_user):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "name", "birth_date"])
    import datetime

    sheet.append(["X1", "Excel person", datetime.datetime(1985, 6, 7)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = _job(sales_user, buffer.getvalue(), name="c.xlsx")
    assert job.status == CustomerImport.Status.VALID
    customer_import_commit(job=job)
    assert str(Customer.objects.get(external_id="X1").birth_date) == "1985-06-07"


@pytest.mark.django_db
def test_import_pages_upload_map_check_commit(client, sales_user, django_capture_on_commit_callbacks):
    client.force_login(sales_user)
    upload = SimpleUploadedFile("c.csv", (HEADER + "W1,Web person,,,,,,,\n").encode())
    response = client.post(reverse("customers:import-create"), {"file": upload, "encoding": "utf-8-sig"})
    job = CustomerImport.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    page = client.get(job.get_absolute_url())
    assert page.status_code == 200 and "Map the columns" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(job.get_absolute_url(), {"name": "name", "external_id": "external_id"})
    job.refresh_from_db()
    assert job.status == CustomerImport.Status.VALID  # tasks run eagerly in tests
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:import-commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == CustomerImport.Status.DONE
    assert Customer.objects.get(external_id="W1").owner == sales_user


@pytest.mark.django_db
def test_import_of_another_user_answers_404(client, sales_user, other_sales_user):
    job = customer_import_create(
        upload=SimpleUploadedFile("c.csv", (HEADER + "Z,Z,,,,,,,\n").encode()),
        encoding="utf-8-sig",
        user=other_sales_user,
    )
    client.force_login(sales_user)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.post(reverse("customers:import-commit", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_commit_publishes_progress_outside_its_transaction(sales_user, monkeypatch):
    from django.core.cache import cache

    from customers.services import imports as service

    rows = "".join(f"P{n},Name {n},,,1380000{n:04d},,lead,,\n" for n in range(7))
    job = _job(sales_user, HEADER + rows)
    monkeypatch.setattr(service, "CHUNK", 2)
    seen = []

    def spy(job, done):
        cache.set(job.progress_key, done)
        # What the polling page would show right now, read from a fresh copy of the job row.
        seen.append(CustomerImport.objects.get(pk=job.pk).live_processed_rows)

    monkeypatch.setattr(service, "_publish_progress", spy)
    job = customer_import_commit(job=job)
    assert job.status == CustomerImport.Status.DONE and job.processed_rows == 7
    assert seen == [2, 4, 6]
    assert cache.get(job.progress_key) is None and job.progress_percent == 100
