"""The one upload reader: every import (customers, orders, events) accepts the same text encodings.

An import form adds ``encoding_field()`` (UTF-8 by default, GB18030 for files saved by Chinese Excel);
its service reads CSV text through ``csv_rows`` (a stored file, streamed) or ``decode_upload`` (bytes
already in memory). A file that is binary, or not text in the chosen encoding, or not CSV, is one
``UploadError`` whose message says what to do; the import turns it into the form's file error.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DEFAULT_ENCODING = "utf-8-sig"
# utf-8-sig reads UTF-8 with or without the BOM Excel writes; GB18030 covers GBK and GB2312.
ENCODINGS = [
    (DEFAULT_ENCODING, gettext_lazy("UTF-8")),
    ("gb18030", gettext_lazy("GB18030 (GBK, Chinese Excel)")),
]
ENCODING_VALUES = {value for value, _label in ENCODINGS} | {"utf-8"}


class UploadError(Exception):
    """The file as a whole cannot be read (binary, wrong encoding, not CSV, not a spreadsheet)."""


def encoding_field() -> forms.ChoiceField:
    """The encoding choice of an import form (used for CSV files; XLSX carries its own)."""
    return forms.ChoiceField(
        label=gettext_lazy("Encoding (CSV only)"), choices=ENCODINGS, initial=DEFAULT_ENCODING, required=False
    )


def _encoding(encoding: str | None) -> str:
    if not encoding:
        return DEFAULT_ENCODING
    if encoding not in ENCODING_VALUES:
        raise UploadError(_("Unknown encoding %(encoding)s.") % {"encoding": encoding})
    return encoding


def _label(encoding: str) -> str:
    return str(dict(ENCODINGS).get(encoding, "UTF-8" if encoding == "utf-8" else encoding))


def _not_text(encoding: str, position: int) -> UploadError:
    return UploadError(
        _(
            "The file is not valid %(encoding)s text (bad byte at position %(position)s). If it is not "
            "%(encoding)s, choose the encoding it was saved in, or save it as UTF-8."
        )
        % {"encoding": _label(encoding), "position": position}
    )


def _binary() -> UploadError:
    return UploadError(_("This looks like a binary file, not CSV text."))


def csv_rows(path: str | Path, encoding: str | None = DEFAULT_ENCODING) -> Iterator[list[str]]:
    """The rows of a stored CSV file, streamed, decoded from ``encoding``."""
    encoding = _encoding(encoding)
    with open(path, "rb") as raw:
        if b"\x00" in raw.read(4096):
            raise _binary()
    try:
        with open(path, encoding=encoding, newline="") as handle:
            yield from csv.reader(handle)
    except UnicodeDecodeError as exc:
        raise _not_text(encoding, exc.start) from exc
    except csv.Error as exc:
        raise UploadError(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc


def xlsx_rows(path: str | Path) -> Iterator[tuple[Any, ...]]:
    """The rows of a stored XLSX file's active sheet (the one Excel shows on opening), streamed."""
    from openpyxl import load_workbook

    unreadable = _("This is not a readable XLSX file.")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything (KeyError, ParseError...) on junk
        raise UploadError(unreadable) from exc
    try:
        sheet = workbook.active or (workbook.worksheets[0] if workbook.worksheets else None)
        if sheet is None:
            raise UploadError(unreadable)
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows, None)
            except Exception as exc:  # noqa: BLE001 - a sheet of junk XML fails only when it is read
                raise UploadError(unreadable) from exc
            if row is None:
                return
            yield row
    finally:
        workbook.close()


# A customer or order import file: bigger than this is refused before it is stored.
DEFAULT_IMPORT_MAX_BYTES = 50 * 1024 * 1024
ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_HEAD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office: .xls, .doc
# Programs (ELF, Mach-O, Windows PE with its NUL bytes), PDF and common images: never an import.
BINARY_HEADS = (
    b"\x7fELF",
    b"\xfe\xed\xfa",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"%PDF-",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
)


def import_max_bytes() -> int:
    from django.conf import settings

    return int(getattr(settings, "CRM_IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES))


def import_format(upload: Any, *, formats: tuple[str, ...] = ("csv", "xlsx")) -> str:
    """``"csv"`` or ``"xlsx"``, decided by the file's bytes (its name is not trusted), or UploadError.

    Refused: a file over ``CRM_IMPORT_MAX_BYTES``, an empty one, an old binary .xls, a ZIP that is not
    an Excel workbook, a program or any other binary file, text named .xlsx, and a format not in
    ``formats``. A workbook named .csv (or anything) is read as the workbook it is.
    """
    import zipfile

    from django.template.defaultfilters import filesizeformat

    limit = import_max_bytes()
    size = getattr(upload, "size", None) or 0
    if size > limit:
        raise UploadError(
            _("The file is %(size)s; at most %(max)s.")
            % {"size": filesizeformat(size), "max": filesizeformat(limit)}
        )
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    if not head:
        raise UploadError(_("The file is empty."))
    if head.startswith(ZIP_HEADS):
        try:
            with zipfile.ZipFile(upload) as archive:
                workbook = "xl/workbook.xml" in archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            workbook = False
        upload.seek(0)
        if not workbook:
            raise UploadError(_("This is not a readable XLSX file."))
        found = "xlsx"
    elif head.startswith(OLE2_HEAD):
        raise UploadError(_("This is an old Excel (.xls) file; save it as .xlsx or CSV and upload that."))
    elif (
        head.startswith(BINARY_HEADS) or (head.startswith(b"MZ") and b"\x00" in head[:64]) or b"\x00" in head
    ):
        raise _binary()
    elif str(getattr(upload, "name", "")).lower().endswith((".xlsx", ".xlsm")):
        # Named a workbook but plain text: say so rather than read it as something else.
        raise UploadError(_("This is not a readable XLSX file."))
    else:
        found = "csv"
    if found not in formats:
        raise UploadError(_("Upload CSV text; this file is an XLSX workbook."))
    return found


def decode_upload(raw: bytes | str, encoding: str | None = DEFAULT_ENCODING) -> str:
    """The text of an upload read into memory, decoded from ``encoding``."""
    encoding = _encoding(encoding)
    if isinstance(raw, str):
        if "\x00" in raw:
            raise _binary()
        return raw
    if b"\x00" in raw:
        raise _binary()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _not_text(encoding, exc.start) from exc
