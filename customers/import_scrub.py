"""Erasure of a person from stored import files (issue 13 review): ``CustomerImport`` and ``OrderImport``.

Import jobs do not record which customer a row created or matched, so the rule works on the files
themselves: every *finished* import (customers: imported or failed; orders: checked, imported or failed)
whose stored file has a cell mentioning one of the person's identifiers loses its file, and its error
entries for those rows (and its header row, when that row is the one mentioning them) are emptied. A
cell mentions an identifier when its lowercased text contains a contact value, the external id or the ID
number, or when its digits contain a phone number's digits (``+86 138 0013 8000`` matches
``13800138000``). Other people in the same file lose the stored file too: a finished import is history,
its counts and status stay. Imports still being worked on are left alone: their rows meet the
suppression list when they are checked or written. The files are deleted after the erasure commits
(``on_commit``), so a rolled-back erasure keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_site.db import on_commit
from crm_site.uploads import UploadError
from customers.models import ContactMethod, Customer

MIN_TEXT = 4
MIN_DIGITS = 7
_NOT_DIGIT = re.compile(r"\D")


@dataclass(frozen=True)
class Markers:
    """What a cell must contain to be about the person."""

    texts: frozenset[str] = field(default_factory=frozenset)
    digits: frozenset[str] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.texts or self.digits)

    def mentioned_in(self, value: Any) -> bool:
        if value in (None, ""):
            return False
        text = str(value).strip().lower()
        if any(marker in text for marker in self.texts):
            return True
        number = _NOT_DIGIT.sub("", text)
        return len(number) >= MIN_DIGITS and any(marker in number for marker in self.digits)


def markers_of(customer_id: Any) -> Markers:
    """The customer's contact values, external id and ID number (read before they are erased)."""
    from customers.models import Suppression
    from customers.selectors.privacy import suppression_normalize

    texts: set[str] = set()
    digits: set[str] = set()
    phone_kinds = {ContactMethod.Kind.PHONE, ContactMethod.Kind.MOBILE}
    for kind, value in ContactMethod.objects.filter(customer_id=customer_id).values_list("kind", "value"):
        texts.add(value.strip().lower())
        if kind in phone_kinds:
            digits.add(suppression_normalize(Suppression.Kind.PHONE, value))
    row = Customer.objects.filter(pk=customer_id).values("external_id", "id_number").first() or {}
    for value in row.values():
        if value:
            texts.add(str(value).strip().lower())
    return Markers(
        texts=frozenset(text for text in texts if len(text) >= MIN_TEXT),
        digits=frozenset(number for number in digits if len(number) >= MIN_DIGITS),
    )


def rows_mentioning(rows: Iterable[Sequence[Any]], markers: Markers) -> set[int]:
    """The 1-based row numbers (the header is row 1) with a cell about the person."""
    return {number for number, cells in enumerate(rows, start=1) if any(map(markers.mentioned_in, cells))}


def _entry_mentions(entry: Any, rows: set[int], markers: Markers) -> bool:
    if isinstance(entry, dict) and entry.get("row") in rows:
        return True
    values = entry.values() if isinstance(entry, dict) else [entry]
    return any(markers.mentioned_in(value) for value in values)


def delete_file_on_commit(file: Any) -> None:
    """Delete a stored file once the surrounding transaction commits (kept when it rolls back)."""
    if not file:
        return
    storage, name = file.storage, file.name
    on_commit(lambda: storage.delete(name))


def scrub_imports(jobs: Iterable[Any], markers: Markers, read: Any, *, headers: bool = False) -> int:
    """Drop the file of every job whose file mentions the person; ``read(job)`` yields its rows."""
    if not markers:
        return 0
    scrubbed = 0
    for job in jobs:
        try:
            rows = rows_mentioning(_rows(read, job), markers)
        except (UploadError, OSError):
            continue  # gone or unreadable: nothing the erasure can match
        if not rows:
            continue
        changes: dict[str, Any] = {
            "file": "",
            "errors": [
                entry for entry in getattr(job, "errors", []) if not _entry_mentions(entry, rows, markers)
            ],
        }
        if headers and (1 in rows or any(map(markers.mentioned_in, getattr(job, "headers", [])))):
            changes["headers"] = []
        delete_file_on_commit(job.file)
        type(job)._default_manager.filter(pk=job.pk).update(**changes)
        scrubbed += 1
    return scrubbed


def _rows(read: Any, job: Any) -> Iterator[Sequence[Any]]:
    yield from read(job)
