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


@pytest.mark.django_db
def test_dry_run_lists_every_bad_row_with_field_and_reason_and_writes_nothing(sales_user):
    CustomerFactory(owner=sales_user, external_id="KEEP", name="Untouched")
    content = HEADER + (
        "A1,Good,1990-01-01,ok@example.com,13800000001,,,,\n"
        "A2,Bad date,1990-13-45,,,,,,\n"
        "A3,Bad mail,,not-an-email,,,,,\n"
        "A4,Bad owner,,,,sales_b,,,\n"
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
    assert "Only managers can import customers for another owner" in messages["owner"]
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
def test_a_cell_over_the_csv_field_limit_is_a_file_error_not_a_500(sales_user):
    import csv

    huge = "x" * (csv.field_size_limit() + 10)
    job = _job(sales_user, HEADER + f"H1,{huge},,,,,,,\n")
    assert job.status == CustomerImport.Status.FAILED, job.status
    assert "field larger than field limit" in job.message
    assert not Customer.objects.exists()


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
def test_text_garbage_is_refused_for_the_garbage_itself(sales_user):
    """A text file of random printable junk under plausible headers: every row refused, nothing written."""
    import random
    import string

    rng = random.Random(9)
    alphabet = string.ascii_letters + string.digits + string.punctuation.replace("@", "") + " "

    def junk(low, high):
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))

    lines = []
    for _row in range(500):
        cells = [junk(201, 400), junk(1, 40), junk(1, 12), junk(1, 30)]  # name, email, birth_date, mobile
        lines.append(",".join('"' + cell.replace('"', '""') + '"' for cell in cells))
    content = "name,email,birth_date,mobile\n" + "\n".join(lines) + "\n"
    job = _job(sales_user, content)
    assert job.status == CustomerImport.Status.INVALID
    assert job.total_rows == 500 and job.error_count == 500
    by_row = {}
    for error in job.errors:
        by_row.setdefault(error["row"], set()).add(error["field"])
    # Each row fails for its own content: a name over the column's 200 characters and a junk email.
    assert all({"name", "email"} <= fields for fields in by_row.values()) and len(by_row) == 500
    with pytest.raises(ValidationError):
        customer_import_commit(job=job)
    assert not Customer.objects.exists()


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


@pytest.mark.nomongo(reason="observes the commit through Django's SQL execute_wrapper (INSERT statements)")
@pytest.mark.django_db
def test_commit_publishes_progress_outside_its_transaction(sales_user, monkeypatch, settings):
    """While the commit's one transaction is open, another process reading the shared Redis cache (and the
    job's live progress) sees the rows written so far. Observed at each customer INSERT through Django's
    query hook; the project's own progress code runs unchanged."""
    import redis
    from django.core.cache import cache
    from django.db import connection

    from crm_site.testing import TEST_REDIS_URL, need_service, port_open
    from customers.services import imports as service

    need_service("Redis", port_open(TEST_REDIS_URL))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": f"crm-test-{os.getpid()}",
        }
    }
    rows = "".join(f"P{n},Name {n},,,1380000{n:04d},,lead,,\n" for n in range(7))
    job = _job(sales_user, HEADER + rows)
    monkeypatch.setattr(service, "CHUNK", 2)
    other_process = redis.Redis.from_url(TEST_REDIS_URL)  # its own connection: no transaction of ours
    key = cache.make_key(job.progress_key)
    seen = []
    sampling = False

    def sample_before_each_customer_insert(execute, sql, params, many, context):
        nonlocal sampling
        if not sampling and sql.startswith(f'INSERT INTO "{Customer._meta.db_table}"'):
            sampling = True
            try:
                raw = other_process.get(key)
                live = CustomerImport.objects.get(pk=job.pk).live_processed_rows
                seen.append((connection.in_atomic_block, int(raw) if raw is not None else None, live))
            finally:
                sampling = False
        return execute(sql, params, many, context)

    with connection.execute_wrapper(sample_before_each_customer_insert):
        job = customer_import_commit(job=job)
    assert job.status == CustomerImport.Status.DONE and job.processed_rows == 7
    assert seen == [(True, None, 0), (True, 2, 2), (True, 4, 4), (True, 6, 6)]
    assert other_process.get(key) is None and job.progress_percent == 100


# --- Who an import may touch: only customers the importer can see; owners only by managers. ---


def _media_files(settings):
    root = settings.MEDIA_ROOT
    return [os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files]


@pytest.mark.django_db
def test_import_cannot_take_over_a_customer_the_importer_cannot_see(sales_user, other_sales_user):
    private = CustomerFactory(owner=other_sales_user, external_id="PRIV", name="Secret Customer")
    job = _job(sales_user, "external_id,name,owner\nPRIV,Hijacked,sales_a\n")
    assert job.status == CustomerImport.Status.INVALID and job.error_count == 1
    assert [(e["row"], e["field"]) for e in job.errors] == [(2, "external_id")]
    message = job.errors[0]["message"]
    assert message == "This value cannot be used."
    assert "sales_b" not in message and "Secret" not in message
    with pytest.raises(ValidationError):
        customer_import_commit(job=job)
    private.refresh_from_db()
    assert (private.name, private.owner) == ("Secret Customer", other_sales_user)


@pytest.mark.django_db
def test_import_without_owner_column_does_not_touch_an_invisible_customer(sales_user, other_sales_user):
    private = CustomerFactory(owner=other_sales_user, external_id="PRIV", name="Secret Customer")
    job = _job(sales_user, "external_id,name,email,tags\nPRIV,Hijacked,x@example.com,Stolen\n")
    assert [(e["row"], e["field"]) for e in job.errors] == [(2, "external_id")]
    with pytest.raises(ValidationError):
        customer_import_commit(job=job)
    private.refresh_from_db()
    assert private.name == "Secret Customer"
    assert not private.contact_methods.exists() and not private.tags.exists()


@pytest.mark.django_db
def test_cannot_be_used_message_is_the_same_whatever_hides_the_customer(sales_user, other_sales_user):
    """No oracle: an id owned by another user and an id of an ownerless customer read the same."""
    CustomerFactory(owner=other_sales_user, external_id="OTHER")
    CustomerFactory(owner=None, external_id="NOBODY")
    job = _job(sales_user, "external_id,name\nOTHER,A\nNOBODY,B\n")
    assert {(e["row"], e["field"], e["message"]) for e in job.errors} == {
        (2, "external_id", "This value cannot be used."),
        (3, "external_id", "This value cannot be used."),
    }


@pytest.mark.django_db
def test_commit_rechecks_visibility_and_writes_nothing_when_a_row_became_invisible(
    sales_user, other_sales_user, monkeypatch
):
    from customers.services import imports as service

    mine = CustomerFactory(owner=sales_user, external_id="MINE", name="Mine")
    job = _job(sales_user, "external_id,name\nNEW1,First\nMINE,Renamed\n")
    assert job.status == CustomerImport.Status.VALID and (job.to_create, job.to_update) == (1, 1)
    # Reassigned by a manager between the dry run and the commit.
    Customer.objects.filter(pk=mine.pk).update(owner=other_sales_user)
    monkeypatch.setattr(service, "CHUNK", 1)  # the first row is written before the second is refused
    job = customer_import_commit(job=job)
    assert job.status == CustomerImport.Status.FAILED
    assert "Row 3, external_id: This value cannot be used." in job.message
    assert not Customer.objects.filter(external_id="NEW1").exists()
    mine.refresh_from_db()
    assert (mine.name, mine.owner) == ("Mine", other_sales_user)


@pytest.mark.django_db
def test_import_updates_a_customer_shared_with_the_importer_but_keeps_its_owner(sales_user, other_sales_user):
    from customers.models import CustomerShare

    shared = CustomerFactory(owner=other_sales_user, external_id="SHARED", name="Shared")
    CustomerShare.objects.create(customer=shared, user=sales_user)
    job = _job(sales_user, "external_id,name\nSHARED,Shared renamed\n")
    assert job.status == CustomerImport.Status.VALID and job.to_update == 1
    job = customer_import_commit(job=job)
    assert job.message == "0 customers created, 1 updated."
    shared.refresh_from_db()
    assert (shared.name, shared.owner) == ("Shared renamed", other_sales_user)
    # Naming themselves as owner would take the shared customer over: refused like on the edit form.
    job = _job(sales_user, "external_id,name,owner\nSHARED,Mine now,sales_a\n")
    assert [(e["row"], e["field"]) for e in job.errors] == [(2, "owner")]
    shared.refresh_from_db()
    assert shared.owner == other_sales_user


@pytest.mark.django_db
def test_sales_user_can_name_only_themselves_as_owner(sales_user, other_sales_user, make_user):
    make_user("gone", "Sales", is_active=False)
    job = _job(
        sales_user, "external_id,name,owner\nS1,A,sales_b\nS2,B,nobody\nS3,C,gone\nS4,D,sales_a\nS5,E,\n"
    )
    assert {e["row"] for e in job.errors} == {2, 3, 4}
    assert {e["field"] for e in job.errors} == {"owner"}
    # One message for an existing, a missing and an inactive user: no username oracle.
    assert len({e["message"] for e in job.errors}) == 1
    with pytest.raises(ValidationError):
        customer_import_commit(job=job)
    assert not Customer.objects.exists()
    job = customer_import_commit(job=_job(sales_user, "external_id,name,owner\nS4,D,sales_a\nS5,E,\n"))
    assert job.status == CustomerImport.Status.DONE
    assert set(Customer.objects.values_list("owner__username", flat=True)) == {"sales_a"}


@pytest.mark.django_db
def test_manager_may_name_any_active_owner_but_not_unknown_or_inactive(
    manager_user, other_sales_user, make_user
):
    make_user("gone", "Sales", is_active=False)
    job = _job(manager_user, "external_id,name,owner\nM1,A,sales_b\nM2,B,nobody\nM3,C,gone\n")
    assert {(e["row"], e["field"], e["message"]) for e in job.errors} == {
        (3, "owner", "Unknown owner nobody."),
        (4, "owner", "Unknown owner gone."),
    }
    job = customer_import_commit(job=_job(manager_user, "external_id,name,owner\nM1,A,sales_b\nM4,D,\n"))
    assert job.status == CustomerImport.Status.DONE
    assert Customer.objects.get(external_id="M1").owner == other_sales_user
    assert Customer.objects.get(external_id="M4").owner == manager_user
    # Managers see every customer, so they may update (and reassign) another user's customer.
    job = customer_import_commit(job=_job(manager_user, "external_id,name,owner\nM1,A2,boss\n"))
    assert Customer.objects.get(external_id="M1").owner == manager_user


@pytest.mark.django_db
def test_values_longer_than_the_model_field_are_row_errors(sales_user):
    from customers.models import Address, Tag

    limit = Customer._meta.get_field("company_name").max_length
    city_limit = Address._meta.get_field("city").max_length
    tag_limit = Tag._meta.get_field("name").max_length
    content = (
        "external_id,name,company_name,job_title,city,postal_code,tags\n"
        f"L1,{'n' * (Customer._meta.get_field('name').max_length + 1)},,,,,\n"
        f"L2,Company,{'c' * 255},,,,\n"
        f"L3,Job,,{'j' * (Customer._meta.get_field('job_title').max_length + 1)},,,\n"
        f"L4,City,,,{'c' * (city_limit + 1)},,\n"
        f"L5,Post,,,,{'9' * (Address._meta.get_field('postal_code').max_length + 1)},\n"
        f"L6,Tag,,,,,{'t' * (tag_limit + 1)}\n"
        f"{'e' * (Customer._meta.get_field('external_id').max_length + 1)},Id,,,,,\n"
        f"OK,{'n' * 200},{'c' * limit},,{'c' * city_limit},,{'t' * tag_limit}\n"
    )
    job = _job(sales_user, content)
    assert {(e["row"], e["field"]) for e in job.errors} == {
        (2, "name"),
        (3, "company_name"),
        (4, "job_title"),
        (5, "city"),
        (6, "postal_code"),
        (7, "tags"),
        (8, "external_id"),
    }
    assert any(e["message"] == f"Longer than {limit} characters." for e in job.errors)
    with pytest.raises(ValidationError):
        customer_import_commit(job=job)
    assert not Customer.objects.exists()
    job = customer_import_commit(
        job=_job(sales_user, content.splitlines()[0] + "\n" + content.splitlines()[-1])
    )
    assert job.status == CustomerImport.Status.DONE and len(Customer.objects.get().company_name) == limit


@pytest.mark.django_db
def test_duplicate_header_names_are_a_file_error(sales_user, settings):
    for header in ("external_id,name,email,name\n", "external_id,Name,email,name\n"):
        with pytest.raises(ValidationError) as excinfo:
            _job(sales_user, header + "D1,A,a@example.com,B\n")
        assert excinfo.value.message_dict["file"] == [
            "Column names must be unique; the header row repeats: name."
        ]
    assert not CustomerImport.objects.exists() and _media_files(settings) == []


def _zip(entries):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _workbook_with_junk_sheet():
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["name"])
    good = io.BytesIO()
    workbook.save(good)
    source = zipfile.ZipFile(io.BytesIO(good.getvalue()))
    return _zip(
        {
            name: b"<junk" if name.startswith("xl/worksheets/") else source.read(name)
            for name in source.namelist()
        }
    )


NOT_XLSX = "This is not a readable XLSX file."
UNREADABLE_XLSX = {
    "zip of junk": (lambda: _zip({"junk.bin": os.urandom(2048), "more.txt": b"hello"}), NOT_XLSX),
    "junk xml inside": (
        lambda: _zip({"[Content_Types].xml": b"<<<not xml", "xl/workbook.xml": b"junk"}),
        NOT_XLSX,
    ),
    "junk sheet": (_workbook_with_junk_sheet, NOT_XLSX),
    "not a zip": (lambda: b"name,email\nA,a@example.com\n", NOT_XLSX),
    "empty": (lambda: b"", "The submitted file is empty."),
}


@pytest.mark.parametrize("kind", list(UNREADABLE_XLSX))
@pytest.mark.django_db
def test_unreadable_xlsx_upload_is_a_file_error_and_leaves_no_file(client, sales_user, settings, kind):
    make, message = UNREADABLE_XLSX[kind]
    client.force_login(sales_user)
    upload = SimpleUploadedFile("customers.xlsx", make())
    response = client.post(reverse("customers:import-create"), {"file": upload, "encoding": "utf-8-sig"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [message]}
    assert not CustomerImport.objects.exists()
    assert _media_files(settings) == []


@pytest.mark.django_db
def test_custom_fields_are_validated_by_type_in_the_import(sales_user):
    from customers.models import CustomFieldDefinition

    Type = CustomFieldDefinition.FieldType
    CustomFieldDefinition.objects.create(key="budget", label="Budget", field_type=Type.NUMBER)
    CustomFieldDefinition.objects.create(key="met_on", label="Met on", field_type=Type.DATE)
    CustomFieldDefinition.objects.create(key="vip", label="VIP", field_type=Type.BOOLEAN)
    CustomFieldDefinition.objects.create(
        key="tier", label="Tier", field_type=Type.CHOICE, choices="gold\nsilver"
    )
    CustomFieldDefinition.objects.create(key="region", label="Region", required=True)
    header = "external_id,name,cf_budget,cf_met_on,cf_vip,cf_tier,cf_region\n"
    job = _job(
        sales_user,
        header
        + "CF1,Good,1200.5,2024-03-01,yes,gold,East\n"
        + "CF2,Bad,lots,2024-13-01,maybe,bronze,\n"
        + "CF3,Inf,Infinity,,,,West\n",
    )
    assert {(e["row"], e["field"]) for e in job.errors} == {
        (3, "cf_budget"),
        (3, "cf_met_on"),
        (3, "cf_vip"),
        (3, "cf_tier"),
        (3, "cf_region"),
        (4, "cf_budget"),
    }
    messages = {(e["row"], e["field"]): e["message"] for e in job.errors}
    assert messages[(3, "cf_tier")] == "bronze is not one of: gold, silver."
    assert messages[(3, "cf_region")] == "Region is required."
    with pytest.raises(ValidationError):
        customer_import_commit(job=job)
    assert not Customer.objects.exists()
    job = customer_import_commit(job=_job(sales_user, header + "CF1,Good,1200.5,2024-03-01,yes,gold,East\n"))
    assert Customer.objects.get(external_id="CF1").attributes == {
        "budget": 1200.5,
        "met_on": "2024-03-01",
        "vip": True,
        "tier": "gold",
        "region": "East",
    }


@pytest.mark.django_db
def test_mapping_refuses_unknown_fields_and_inactive_custom_fields(sales_user):
    from customers.models import CustomFieldDefinition

    CustomFieldDefinition.objects.create(key="old", label="Old", is_active=False)
    job = customer_import_create(
        upload=SimpleUploadedFile("c.csv", b"name,x\nA,B\n"), encoding="utf-8-sig", user=sales_user
    )
    for target in ("cf_old", "owner_id", "attributes"):
        with pytest.raises(ValidationError, match=f"Unknown fields: {target}"):
            customer_import_set_mapping(job=job, mapping={"name": "name", target: "x"})
