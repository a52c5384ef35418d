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
