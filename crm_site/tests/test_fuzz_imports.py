"""Fuzz every import parser (issue 13): customers (CSV/XLSX), orders (CSV/XLSX), behaviour events (CSV).

Each example is a file: random bytes, or rows of nasty cells (formula-looking, huge, control characters,
lone surrogates, CJK, numbers and dates past every limit) under a header mixing real and made-up column
names (columns missing, repeated or extra, rows shorter or longer than the header), written as CSV in
UTF-8 (with or without BOM), GB18030, UTF-16 or Latin-1, or as an XLSX workbook, and read with a declared
encoding that may not match. Properties, per the importers' contracts:

- only the documented refusals: a ValidationError (customers: on ``file``; events), an UploadError or a
  RowError from the order file's header; never any other exception;
- every reported row error names its row (a number) and its field;
- nothing half-written: a dry run, a refused file and an import with any invalid row leave every
  project table as it was (the import job's own row aside); a written import adds what it reported.

More examples: ``HYPOTHESIS_PROFILE=thorough`` (crm_site/tests/fuzzing.py).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from crm_site.db import atomic
from crm_site.tests.fuzzing import changed_counts, fuzz_settings, nasty_text, row_counts
from crm_site.uploads import UploadError

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

# The import jobs' own rows (created when a file is accepted for checking) are not the data imported.
JOB_MODELS = {"customers.CustomerImport", "orders.OrderImport"}

FORMULAS = ["=1+1", '=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]
HUGE_CELLS = ["x" * 140_000, "9" * 5000, "客" * 3000]  # past csv's 131072-character field limit
cell_text = st.one_of(*[nasty_text] * 4, st.sampled_from(FORMULAS))


def _data_counts() -> dict[str, int]:
    return {label: count for label, count in row_counts().items() if label not in JOB_MODELS}


def _csv_bytes(rows: list[list[str]], codec: str) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    text = out.getvalue()
    if codec == "utf-8-bom":
        return "\ufeff".encode() + text.encode("utf-8", "surrogatepass")
    if codec == "utf-8":
        return text.encode("utf-8", "surrogatepass")
    return text.encode(codec, "replace")


def _xlsx_cell(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        # A workbook cannot hold control characters or lone surrogates, and at most 32,767 per cell.
        value = ILLEGAL_CHARACTERS_RE.sub("", value.encode("utf-8", "replace").decode("utf-8"))[:32_000]
    return value


def _xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# Typed cells only a workbook has: numbers, dates, booleans, empties.
xlsx_value = st.one_of(
    cell_text,
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
    st.booleans(),
    st.none(),
)

CODECS = ["utf-8"] * 4 + ["utf-8-bom", "gb18030", "utf-16", "latin-1"]
DECLARED = ["utf-8-sig", "utf-8", "gb18030", "", "ebcdic-nonsense"]


@st.composite
def import_file(
    draw: Any, columns: list[str], good: dict[str, list[str]], *, xlsx: bool = True
) -> tuple[str, bytes, str]:
    """(file name, bytes, declared encoding) for an importer whose real columns are ``columns``;
    ``good`` gives values a column accepts, so most rows get through to the write."""
    kind = draw(st.sampled_from(["csv"] * 5 + ["xlsx"] * (2 if xlsx else 0) + ["bytes"]))
    if kind == "bytes":
        name = draw(st.sampled_from(["f.csv", "f.xlsx", "f.txt"]))
        return name, draw(st.binary(min_size=0, max_size=600)), draw(st.sampled_from(DECLARED))
    header = list(columns)
    if draw(st.integers(0, 3)) == 0:  # a header with real columns left out, made-up or repeated ones
        header = draw(
            st.lists(st.one_of(st.sampled_from(columns), cell_text), min_size=0, max_size=len(columns) + 2)
        )
    value = cell_text if kind == "csv" else xlsx_value

    def cell(column: str) -> st.SearchStrategy[Any]:
        accepted = good.get(column)
        return st.one_of(*[st.sampled_from(accepted)] * 6, value) if accepted else st.just("")

    row = st.one_of(
        *[st.tuples(*[cell(column) for column in header]).map(list)] * 4,  # as wide as the header
        # Shorter or longer, all nasty; only here huge cells (one makes the whole file unreadable).
        st.lists(st.one_of(value, st.sampled_from(HUGE_CELLS)), max_size=len(header) + 2),
    )
    rows = [header, *draw(st.lists(row, min_size=1, max_size=6))]
    if kind == "xlsx":
        return draw(st.sampled_from(["f.xlsx", "f.csv"])), _xlsx_bytes(rows), draw(st.sampled_from(DECLARED))
    codec = draw(st.sampled_from(CODECS))
    # Mostly the encoding the file is in; sometimes one it is not in.
    matching = {"utf-8": "utf-8", "utf-8-bom": "utf-8-sig", "gb18030": "gb18030"}.get(codec, "utf-8-sig")
    declared = draw(st.one_of(*[st.just(matching)] * 4, st.sampled_from(DECLARED)))
    return "f.csv", _csv_bytes(rows, codec), declared


class _Rollback(Exception):
    pass


def _rolled_back(run: Any) -> None:
    """Run one example in a transaction, then undo it, so examples do not see each other's rows."""
    try:
        with atomic():
            run()
            raise _Rollback
    except _Rollback:
        pass


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def people(make_user):
    from customers.models import CustomFieldDefinition
    from customers.tests.factories import CustomerFactory
    from orders.tests.factories import ProductFactory

    sales, manager = make_user("fuzz_sales", "Sales"), make_user("fuzz_boss", "Manager")
    other = make_user("fuzz_other", "Sales")
    CustomerFactory(owner=sales, external_id="C1", name="王芳")
    CustomerFactory(owner=other, external_id="C2", name="Li Na")
    ProductFactory(sku="SKU1")
    for field_type in CustomFieldDefinition.FieldType.values:
        CustomFieldDefinition.objects.create(
            key=f"f_{field_type}", label=field_type, field_type=field_type, choices="gold\n金"
        )
    return {"sales": sales, "manager": manager}


def _assert_row_errors(errors: list[dict[str, Any]], *, first_row: int) -> None:
    for error in errors:
        assert isinstance(error["row"], int) and error["row"] >= first_row, error
        assert isinstance(error["field"], str) and error["field"], error
        assert str(error["message"]).strip(), error


# Customers ------------------------------------------------------------------------------------------

CUSTOMER_GOOD = {
    "external_id": ["C1", "N1", "N2", ""],
    "name": ["张伟", "Zhang Wei"],
    "birth_date": ["1980-02-03", "1990/01/01"],
    "email": ["a@example.com"],
    "mobile": ["13800138000"],
    "owner": ["fuzz_sales", "fuzz_boss", ""],
    "kind": ["person", "company"],
    "marketing_consent": ["yes", "no", "是"],
    "tags": ["VIP,华东"],
    "cf_f_number": ["12.5"],
    "cf_f_date": ["2024-01-01"],
    "cf_f_choice": ["gold"],
    "cf_f_boolean": ["yes"],
}


def _customer_columns() -> list[str]:
    from customers.importing import TARGETS

    return [*TARGETS, "cf_f_text", "cf_f_number", "cf_f_date", "cf_f_choice", "cf_f_boolean"]


@fuzz_settings()
@given(
    payload=import_file(_customer_columns(), CUSTOMER_GOOD),
    who=st.sampled_from(["sales", "manager"]),
)
def _fuzz_customer_import(people, payload, who):
    from customers.importing import TARGETS, guess_mapping
    from customers.models import CustomerImport
    from customers.services.imports import (
        customer_import_commit,
        customer_import_create,
        customer_import_set_mapping,
        customer_import_validate,
    )

    name, content, declared = payload
    Status = CustomerImport.Status

    def run():
        before = _data_counts()
        try:
            job = customer_import_create(
                upload=SimpleUploadedFile(name, content), encoding=declared, user=people[who]
            )
        except ValidationError as error:
            # The file, or the encoding (the form offers only the known ones; the job model checks too).
            assert set(error.message_dict) <= {"file", "encoding"}
            assert all(all(messages) for messages in error.message_dict.values())
            assert changed_counts(before, _data_counts()) == {}
            return
        try:
            targets = {**TARGETS, **{f"cf_f_{t}": t for t in ("text", "number", "date", "choice", "boolean")}}
            mapping = guess_mapping(job.headers, targets)
            if "name" not in mapping and any(job.headers):
                mapping["name"] = next(header for header in job.headers if header)
            try:
                job = customer_import_set_mapping(job=job, mapping=mapping)
            except ValidationError:
                assert "name" not in mapping
                return
            job = customer_import_validate(job=job)
            assert job.status in (Status.VALID, Status.INVALID, Status.FAILED), job.status
            _assert_row_errors(job.errors, first_row=2)
            assert (job.status == Status.INVALID) == bool(job.error_count)
            assert changed_counts(before, _data_counts()) == {}, "the dry run wrote something"
            if job.status != Status.VALID:
                return
            job = customer_import_commit(job=job)
            assert job.status in (Status.DONE, Status.FAILED), job.status
            after = _data_counts()
            if job.status == Status.FAILED:
                assert job.message
                assert changed_counts(before, after) == {}, "a failed import wrote something"
            else:
                created = after["customers.Customer"] - before["customers.Customer"]
                assert created == job.to_create
        finally:
            job.file.delete(save=False)

    _rolled_back(run)


def test_customer_import_survives_any_file(people, media):
    _fuzz_customer_import(people)


# Orders ---------------------------------------------------------------------------------------------

ORDER_GOOD = {
    "customer_external_id": ["C1", "C1", "NEW-1"],
    "customer_name": ["王芳", ""],
    "order_number": ["SO-1", "SO-2"],
    "order_date": ["2024-05-01", "2024-05-01 10:00", "2024/05/01"],
    "sku": ["SKU1"],
    "category": [""],
    "quantity": ["1", "2", "1.0"],
    "amount": ["10.00", "0", "1,000.50"],
    "channel": ["store", "online", ""],
    "currency": ["CNY", "usd", ""],
    "status": ["completed", "paid", ""],
}


def _order_columns() -> list[str]:
    from orders.services.import_rows import COLUMNS

    return list(COLUMNS)


@fuzz_settings()
@given(
    payload=import_file(_order_columns(), ORDER_GOOD),
    who=st.sampled_from(["sales", "manager"]),
    dry_run=st.booleans(),
    create_customers=st.booleans(),
)
def _fuzz_order_import(people, media, payload, who, dry_run, create_customers):
    from orders.services.import_rows import RowError, check_file, row_source
    from orders.services.imports import orders_import

    name, content, declared = payload
    path = media / name
    path.write_bytes(content)
    declared = declared or "utf-8-sig"

    def run():
        before = _data_counts()
        try:
            check_file(path, name, declared)
            result = orders_import(
                rows=row_source(path, name, declared),
                user=people[who],
                dry_run=dry_run,
                create_customers=create_customers,
            )
        except (UploadError, RowError) as error:
            assert str(error)
            assert changed_counts(before, _data_counts()) == {}
            return
        _assert_row_errors(result.errors, first_row=0)
        assert len(result.errors) == min(result.error_count, 500)
        changed = changed_counts(before, _data_counts())
        if dry_run or result.error_count or not result.written:
            assert not result.written
            assert changed == {}, "an import that was not written changed rows"
            return
        assert not result.error_count
        orders = changed.get("orders.SalesOrder", (0, 0))
        lines = changed.get("orders.OrderLine", (0, 0))
        assert orders[1] - orders[0] == result.orders
        assert lines[1] - lines[0] == result.lines

    _rolled_back(run)


def test_order_import_survives_any_file(people, media):
    _fuzz_order_import(people, media)


# Behaviour events -----------------------------------------------------------------------------------

EVENT_GOOD = {
    "customer_external_id": ["C1"],
    "customer_id": [""],
    "event_type": ["page_view", "purchase", "search"],
    "occurred_at": ["2026-06-01T10:00:00+08:00", "2026-06-01 10:00"],
    "channel": ["web", "app", ""],
    "idempotency_key": ["k1", "k2", ""],
    "properties": ['{"amount": 10}', '{"a": "\\ud800"}', ""],
    "query": ["手机", ""],
}


def _event_columns() -> list[str]:
    from profiles.services.events import CSV_COLUMNS

    # customer_external_id, not customer_id (a uuid), in most files; random headers may have both.
    return [name for name in CSV_COLUMNS if name != "customer_id"] + ["properties", "query"]


@fuzz_settings()
@given(
    payload=import_file(_event_columns(), EVENT_GOOD, xlsx=False), who=st.sampled_from(["sales", "manager"])
)
def _fuzz_event_import(people, payload, who):
    from profiles.services.events import events_import_csv

    _name, content, declared = payload

    def run():
        before = _data_counts()
        try:
            result = events_import_csv(file=io.BytesIO(content), user=people[who], encoding=declared)
        except ValidationError as error:
            assert error.messages and all(message.strip() for message in error.messages)
            assert changed_counts(before, _data_counts()) == {}, "a refused file wrote events"
            return
        assert result.errors == []
        changed = changed_counts(before, _data_counts())
        events = changed.get("profiles.Event", (0, 0))
        assert events[1] - events[0] == result.stored

    _rolled_back(run)


def test_event_import_survives_any_file(people):
    _fuzz_event_import(people)
