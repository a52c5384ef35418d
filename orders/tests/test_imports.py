"""Order import: dry run, row-level errors naming row and column, all-or-nothing, customers on the fly."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer
from orders.models import OrderImport, OrderLine, SalesOrder
from orders.services.imports import orders_import
from orders.tests.factories import CustomerFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db

HEADER = "customer_external_id,customer_name,order_number,order_date,sku,category,quantity,amount,channel\n"


def _rows(text):
    import csv
    import io

    def read():
        reader = csv.reader(io.StringIO(text))
        names = next(reader)
        for number, values in enumerate(reader, start=2):
            yield number, dict(zip(names, values, strict=False))

    return read


GOOD = HEADER + (
    "C-OWN,,A-1,2025-11-11,PH-1,,1,1999.00,app\n"
    "C-OWN,,A-1,2025-11-11,AC-1,,3,59.70,app\n"
    "C-OWN,,A-2,2025-12-01 10:30,,phones,2,0.03,web\n"
)


def test_import_writes_orders_and_lines_with_exact_amounts(own_customer, sales_user, phone, case):
    result = orders_import(rows=_rows(GOOD), user=sales_user, dry_run=False)
    assert result.error_count == 0 and result.written
    assert (result.orders, result.lines) == (2, 3)
    order = SalesOrder.objects.get(number="A-1")
    assert order.total == Decimal("2058.70") and order.channel == "app" and order.status == "completed"
    odd = OrderLine.objects.get(order__number="A-2")
    # 0.03 over 2 units: unit price rounds up to 0.02 and a 0.01 discount keeps the line exact.
    assert (odd.unit_price, odd.discount, odd.line_total) == (
        Decimal("0.02"),
        Decimal("0.01"),
        Decimal("0.03"),
    )


def test_dry_run_writes_nothing(own_customer, sales_user, phone, case):
    result = orders_import(rows=_rows(GOOD), user=sales_user, dry_run=True)
    assert result.error_count == 0 and not result.written and result.lines == 3
    assert not SalesOrder.objects.exists()


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(own_customer, sales_user, phone):
    SalesOrderFactory(customer=own_customer, number="TAKEN")
    text = HEADER + (
        "C-OWN,,B-1,2025-11-11,PH-1,,1,10.00,app\n"  # fine
        "C-OWN,,B-2,2025-13-45,PH-1,,1,10.00,app\n"  # bad date
        "C-OWN,,B-3,2025-11-11,NOPE,,1,10.00,app\n"  # unknown sku
        "C-OWN,,B-4,2025-11-11,PH-1,,0,10.00,app\n"  # quantity
        "C-OWN,,B-5,2025-11-11,PH-1,,1,1.005,app\n"  # 3 decimals
        "C-NEW,,B-6,2025-11-11,PH-1,,1,10.00,app\n"  # unknown customer
        "C-OWN,,TAKEN,2025-11-11,PH-1,,1,10.00,app\n"  # number exists
        "C-OWN,,B-1,2025-11-12,PH-1,,1,10.00,app\n"  # same order, other date
    )
    result = orders_import(rows=_rows(text), user=sales_user, dry_run=False)
    found = {(error["row"], error["field"]) for error in result.errors}
    assert found == {
        (3, "order_date"),
        (4, "sku"),
        (5, "quantity"),
        (6, "amount"),
        (7, "customer_external_id"),
        (8, "order_number"),
        (9, "order_date"),
    }
    assert not result.written
    assert SalesOrder.objects.count() == 1  # only the pre-existing one


def test_unknown_customers_are_created_when_the_file_says_so(sales_user, phone):
    text = HEADER + "C-NEW,新客户 New Buyer,N-1,2025-11-11,PH-1,,1,1999.00,store\n"
    result = orders_import(rows=_rows(text), user=sales_user, dry_run=False, create_customers=True)
    assert result.customers_created == 1
    customer = Customer.objects.get(external_id="C-NEW")
    assert customer.name == "新客户 New Buyer" and customer.owner == sales_user
    assert SalesOrder.objects.get(number="N-1").customer == customer


def test_import_refuses_customers_of_other_sales_staff(sales_user, other_sales_user, phone):
    CustomerFactory(owner=other_sales_user, external_id="C-X")
    result = orders_import(
        rows=_rows(HEADER + "C-X,,X-1,2025-11-11,PH-1,,1,1.00,app\n"), user=sales_user, dry_run=False
    )
    assert result.errors[0]["field"] == "customer_external_id" and not SalesOrder.objects.exists()


def test_missing_column_is_named(sales_user, tmp_path):
    from orders.services.import_rows import row_source

    path = tmp_path / "bad.csv"
    path.write_text("customer_external_id,order_number\nC-1,A\n", encoding="utf-8")
    result = orders_import(rows=row_source(path, "bad.csv"), user=sales_user)
    assert result.errors[0]["row"] == 1 and "order_date" in result.errors[0]["message"]


def test_upload_page_runs_the_background_import_and_shows_progress(
    client, sales_user, own_customer, phone, case, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    client.force_login(sales_user)
    upload = SimpleUploadedFile("orders.csv", GOOD.encode("utf-8-sig"), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("orders:import-create"), {"file": upload})
    job = OrderImport.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.status == OrderImport.Status.DONE and job.lines_created == 3 and job.percent == 100
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Imported 2 orders with 3 lines" in page


def test_xlsx_import(sales_user, own_customer, phone, tmp_path):
    from openpyxl import Workbook

    from orders.services.import_rows import row_source

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["客户编号", "订单号", "下单日期", "商品编码", "数量", "金额"])
    sheet.append(["C-OWN", "X-1", "2025-11-11", "PH-1", 1, 1999.1])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)
    result = orders_import(rows=row_source(path, "orders.xlsx"), user=sales_user, dry_run=False)
    assert result.error_count == 0, result.errors
    assert SalesOrder.objects.get(number="X-1").total == Decimal("1999.10")


def test_import_reports_write_progress_per_batch(own_customer, sales_user, phone, case):
    seen = []
    result = orders_import(
        rows=_rows(GOOD),
        user=sales_user,
        dry_run=False,
        batch_size=2,
        progress=lambda phase, done, total: seen.append((phase, done, total)),
    )
    assert result.written
    assert [step for step in seen if step[0] == "writing"] == [
        ("writing", 0, 3),
        ("writing", 2, 3),
        ("writing", 3, 3),
    ]


def test_import_rejects_an_order_total_too_large_for_the_money_columns(own_customer, sales_user, phone):
    text = HEADER + "C-OWN,,Z-1,2025-11-11,PH-1,,1,999999999999.00,app\n" * 2
    result = orders_import(rows=_rows(text), user=sales_user, dry_run=False)
    assert [(error["row"], error["field"]) for error in result.errors] == [(2, "amount")]
    assert not SalesOrder.objects.exists()


@pytest.fixture
def result_backend_at():
    """The web process as it runs with a worker: tasks not in-process, results in real Redis (restored)."""
    from crm_site.celery import app
    from crm_site.testing import _forget_connections

    saved = {key: app.conf[key] for key in ("result_backend", "task_always_eager")}

    def use(url):
        app.conf.update(result_backend=url, task_always_eager=False)
        _forget_connections(app)
        return app

    yield use
    app.conf.update(saved)
    _forget_connections(app)


def _writing_job(sales_user):
    return OrderImport.objects.create(
        owner=sales_user, original_name="big.csv", status=OrderImport.Status.WRITING, total_rows=500_000
    )


def test_progress_page_shows_lines_written_from_the_task_state(client, sales_user, result_backend_at):
    from crm_site.testing import TEST_REDIS_URL, need_service, port_open
    from orders.tasks import order_import_run_task

    need_service("Redis", port_open(TEST_REDIS_URL))
    app = result_backend_at(TEST_REDIS_URL)
    job = _writing_job(sales_user)
    # What the running task stores (its report callback), through the real Redis result backend.
    order_import_run_task.update_state(
        task_id=job.task_id, state="PROGRESS", meta={"phase": "writing", "done": 125_000, "total": 500_000}
    )
    try:
        client.force_login(sales_user)
        page = client.get(job.get_absolute_url()).content.decode()
    finally:
        app.backend.forget(job.task_id)
    assert "125,000 of 500,000 lines written" in page and 'aria-valuenow="25"' in page


def test_progress_page_still_answers_when_the_result_backend_is_unreachable(
    client, sales_user, result_backend_at
):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result_backend_at(f"redis://127.0.0.1:{closed_port}/0")
    job = _writing_job(sales_user)
    client.force_login(sales_user)
    response = client.get(job.get_absolute_url())
    assert response.status_code == 200
    assert "lines written" not in response.content.decode()


# --- Whose data an import may touch, and what its messages may reveal. ---


def _media_files(root):
    import os

    return [os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files]


def test_unknown_and_invisible_customers_read_the_same_when_create_is_off(
    sales_user, other_sales_user, phone
):
    CustomerFactory(owner=other_sales_user, external_id="C-X")
    text = HEADER + "C-X,,X-1,2025-11-11,PH-1,,1,1.00,app\nC-NOPE,,X-2,2025-11-11,PH-1,,1,1.00,app\n"
    result = orders_import(rows=_rows(text), user=sales_user, dry_run=True)
    assert [(e["row"], e["field"]) for e in result.errors] == [
        (2, "customer_external_id"),
        (3, "customer_external_id"),
    ]
    first, second = (e["message"] for e in result.errors)
    assert first.replace("C-X", "?") == second.replace("C-NOPE", "?")
    assert "sales_b" not in first


def test_create_customers_never_reuses_an_invisible_customer(sales_user, other_sales_user, phone):
    theirs = CustomerFactory(owner=other_sales_user, external_id="C-X", name="Theirs")
    text = (
        HEADER + "C-NEW,New,N-1,2025-11-11,PH-1,,1,1.00,app\nC-X,Mine now,X-1,2025-11-11,PH-1,,1,1.00,app\n"
    )
    result = orders_import(rows=_rows(text), user=sales_user, dry_run=False, create_customers=True)
    assert [(e["row"], e["field"], e["message"]) for e in result.errors] == [
        (3, "customer_external_id", "Customer “C-X”: this value cannot be used.")
    ]
    assert not result.written and not SalesOrder.objects.exists()
    assert not Customer.objects.filter(external_id="C-NEW").exists()
    theirs.refresh_from_db()
    assert (theirs.name, theirs.owner) == ("Theirs", other_sales_user)


def test_a_customer_id_taken_during_the_import_is_not_attached(sales_user, other_sales_user, phone):
    """Another user creates the same external id between the check and the write: nothing is written."""

    def progress(phase, done, total):
        if phase == "writing" and done == 0:  # the check is over, the write is about to start
            CustomerFactory(owner=other_sales_user, external_id="C-RACE")

    text = HEADER + "C-RACE,Racer,R-1,2025-11-11,PH-1,,1,1.00,app\n"
    result = orders_import(
        rows=_rows(text), user=sales_user, dry_run=False, create_customers=True, progress=progress
    )
    assert not result.written and result.errors[0]["field"] == "customer_external_id"
    assert not SalesOrder.objects.exists()
    assert Customer.objects.get(external_id="C-RACE").owner == other_sales_user


def test_order_number_in_use_does_not_say_whose_or_that_it_exists(
    sales_user, own_customer, others_customer, phone
):
    SalesOrderFactory(customer=others_customer, owner=others_customer.owner, number="THEIRS")
    SalesOrderFactory(customer=own_customer, owner=sales_user, number="MINE")
    text = HEADER + "C-OWN,,THEIRS,2025-11-11,PH-1,,1,1.00,app\nC-OWN,,MINE,2025-11-11,PH-1,,1,1.00,app\n"
    result = orders_import(rows=_rows(text), user=sales_user, dry_run=False)
    assert sorted((e["row"], e["field"], e["message"]) for e in result.errors) == [
        (2, "order_number", "Order number “THEIRS”: this value cannot be used."),
        (3, "order_number", "Order number “MINE”: this value cannot be used."),
    ]
    assert SalesOrder.objects.count() == 2


def test_import_refuses_inactive_products_like_the_order_form(sales_user, own_customer, phone, case):
    case.active = False
    case.save()
    text = HEADER + "C-OWN,,I-1,2025-11-11,PH-1,,1,1.00,app\nC-OWN,,I-1,2025-11-11,AC-1,,1,1.00,app\n"
    result = orders_import(rows=_rows(text), user=sales_user, dry_run=False)
    assert [(e["row"], e["field"], e["message"]) for e in result.errors] == [
        (3, "sku", "Product “AC-1” is inactive and cannot be ordered.")
    ]
    assert not SalesOrder.objects.exists() and not OrderLine.objects.exists()


def test_values_longer_than_the_model_fields_are_row_errors(sales_user, own_customer, phone):
    limits = {
        "customer_external_id": Customer._meta.get_field("external_id").max_length,
        "customer_name": Customer._meta.get_field("name").max_length,
        "order_number": SalesOrder._meta.get_field("number").max_length,
        "sku": OrderLine._meta.get_field("sku").max_length,
    }
    long = {field: "x" * (limit + 1) for field, limit in limits.items()}
    text = HEADER + (
        f"{long['customer_external_id']},,L-1,2025-11-11,PH-1,,1,1.00,app\n"
        f"C-LONG,{long['customer_name']},L-2,2025-11-11,PH-1,,1,1.00,app\n"
        f"C-OWN,,{long['order_number']},2025-11-11,PH-1,,1,1.00,app\n"
        f"C-OWN,,L-4,2025-11-11,{long['sku']},,1,1.00,app\n"
    )
    result = orders_import(rows=_rows(text), user=sales_user, dry_run=False, create_customers=True)
    assert [(e["row"], e["field"]) for e in result.errors] == [
        (2, "customer_external_id"),
        (3, "customer_name"),
        (4, "order_number"),
        (5, "sku"),
    ]
    assert (
        result.errors[1]["message"] == f"customer_name is longer than {limits['customer_name']} characters."
    )
    assert not result.written and not SalesOrder.objects.exists()
    assert not Customer.objects.filter(external_id="C-LONG").exists()


@pytest.mark.parametrize(
    "header, repeated",
    [
        ("customer_external_id,order_number,order_date,sku,quantity,amount,amount", "amount"),
        ("客户编号,customer_external_id,order_number,order_date,sku,quantity,amount", "customer_external_id"),
    ],
)
def test_duplicate_header_names_are_a_file_error(
    client, sales_user, own_customer, phone, settings, tmp_path, header, repeated
):
    from orders.services.import_rows import row_source

    message = f"Column names must be unique; the header row repeats: {repeated}."
    path = tmp_path / "dup.csv"
    content = header + "\nC-OWN,D-1,2025-11-11,PH-1,1,1.00,2.00\n"
    path.write_text(content, encoding="utf-8")
    result = orders_import(rows=row_source(path, "dup.csv"), user=sales_user, dry_run=False)
    assert [(e["row"], e["message"]) for e in result.errors] == [(1, message)]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    client.force_login(sales_user)
    upload = SimpleUploadedFile("dup.csv", content.encode())
    response = client.post(reverse("orders:import-create"), {"file": upload, "dry_run": "on"})
    assert response.status_code == 200 and response.context["form"].errors == {"file": [message]}
    assert not OrderImport.objects.exists() and _media_files(settings.MEDIA_ROOT) == []


def _zip(entries):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        _zip({"junk.bin": b"\x01\x02" * 500}),
        _zip({"[Content_Types].xml": b"<<<not xml", "xl/workbook.xml": b"junk"}),
        b"customer_external_id,order_number\nnot,a zip\n",
    ],
    ids=["zip of junk", "junk xml", "not a zip"],
)
def test_unreadable_xlsx_upload_is_a_file_error_and_leaves_no_file(
    client, sales_user, settings, tmp_path, content
):
    settings.MEDIA_ROOT = str(tmp_path)
    client.force_login(sales_user)
    upload = SimpleUploadedFile("orders.xlsx", content)
    response = client.post(reverse("orders:import-create"), {"file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["This is not a readable XLSX file."]}
    assert not OrderImport.objects.exists() and _media_files(tmp_path) == []


def test_a_file_unreadable_past_its_first_lines_fails_clearly_and_is_deleted(
    client, sales_user, own_customer, phone, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    good = "".join(f"C-OWN,,U-{n},2025-11-11,PH-1,,1,1.00,app\n" for n in range(600))  # > the reader's buffer
    content = (HEADER + good).encode() + b"C-OWN,,U-bad,2025-11-11,PH-1,,1,1.00,\xff\xfe\n"
    client.force_login(sales_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orders:import-create"), {"file": SimpleUploadedFile("u.csv", content)}
        )
    job = OrderImport.objects.get()
    assert response.status_code == 302 and job.status == OrderImport.Status.FAILED
    assert job.errors[0]["field"] == "file"
    assert job.errors[0]["message"].startswith("The file is not valid UTF-8 text")
    assert not SalesOrder.objects.exists() and _media_files(tmp_path) == []
