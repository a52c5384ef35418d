"""CSV and XLSX downloads: one formula-neutralising cell function and the responses around it.

Every export in every app writes its cells through ``neutralise_cell`` (via ``csv_lines`` or
``xlsx_file``): a text cell a spreadsheet would run as a formula (OWASP "CSV injection": text starting
with = + - @ tab or CR) gets a leading quote. Numbers stay numbers. An export is a header, an iterator
of rows (lists of plain values, read in chunks) and one of::

    return csv_response(csv_lines(header, rows), filename="segment-1.csv")
    return xlsx_response(xlsx_file(header, rows, title="Customers"), filename="customers.xlsx")
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR gets a quote.

    None is an empty cell; numbers and dates are kept as they are, except that a moment (an aware
    datetime, stored in UTC) is written as the wall-clock time of the server time zone (TIME_ZONE),
    as the pages show it: people read "2026-03-01 09:30", not "2026-03-01 01:30:00+00:00", and XLSX
    cannot hold an offset at all. Anything else becomes text.
    """
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.make_naive(value).replace(microsecond=0)
    if isinstance(value, (int, float, decimal.Decimal, datetime.date)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(cells: Iterable[Any]) -> str:
    """One CSV line (with its line end) of the cells as given."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text, line by line: a BOM (so Excel reads UTF-8 Chinese), the header, every row neutralised."""
    yield "\ufeff" + csv_line(neutralise_cell(cell) for cell in header)
    for row in rows:
        yield csv_line(neutralise_cell(cell) for cell in row)


def csv_response(lines: Iterable[str], *, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download (nothing but the current chunk sits in memory); recorded in the audit trail."""
    from crm_site.audit.trail import record_export

    record_export(filename=filename)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_file(header: Iterable[Any], rows: Iterable[Iterable[Any]], *, title: str) -> IO[bytes]:
    """A temporary file holding the workbook (openpyxl's write-only mode keeps memory flat)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(title)[:31])
    sheet.append([neutralise_cell(cell) for cell in header])
    for row in rows:
        sheet.append([neutralise_cell(cell) for cell in row])
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return handle


def xlsx_response(handle: IO[bytes], *, filename: str) -> FileResponse:
    """The workbook as a download; recorded in the audit trail."""
    from crm_site.audit.trail import record_export

    record_export(filename=filename)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
