"""Masking personal values for viewers without ``customers.view_pii_customer`` (issue 13).

Pure functions over the Python (decrypted) value: nothing here reads the database, so masking works the
same whether a field is stored in clear or encrypted. The rules (shown to Marketing by default):

- mobile (11 digits, with or without +86): first 3 and last 4 digits, ``138****8000``;
- other phones: the country/area prefix as typed up to the first separator is dropped, the last 4 digits
  kept, the rest starred (``+86 10 6552 9988`` -> ``****9988``); fewer than 7 digits: last 2 kept;
- email: first character of the local part and the whole domain, ``a***@example.com``;
- ID number: first 1 and last 2 characters (``1****************5X`` shape kept by length, at least 4 stars);
- birth date: the year only, ``1990-**-**``;
- street: nothing of it, ``***``; postal code: the first 2 characters;
- anything else (WeChat, QQ, Weibo, other): the first character and ``***``, or ``***`` when short.

An empty value stays empty (nothing to hide, and "—" placeholders keep working).
"""

from __future__ import annotations

import datetime
import re
from email.utils import parseaddr
from typing import Any

STARS = "***"
_NOT_DIGIT = re.compile(r"\D")
PHONE_KINDS = frozenset({"phone", "mobile"})
# The kinds of values a viewer without view_pii sees masked (contact method kinds plus the fields).
FIELD_KINDS = frozenset({"birth_date", "id_number", "street", "postal_code"})


def mask_phone(value: str) -> str:
    """``13800138000`` -> ``138****8000``; other numbers keep their last 4 digits (2 when short)."""
    text = (value or "").strip()
    if not text:
        return ""
    digits = _NOT_DIGIT.sub("", text)
    if len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        digits = digits[2:]  # +86 mobile
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 7:
        return f"****{digits[-4:]}"
    if len(digits) >= 3:
        return f"****{digits[-2:]}"
    return "****"


def mask_email(value: str) -> str:
    """``amelia.hall@example.com`` -> ``a***@example.com``; no ``@``: the generic rule."""
    text = (value or "").strip()
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return mask_text(text)
    return f"{local[0]}{STARS}@{domain}"


def mask_id_number(value: str) -> str:
    """First character and last 2 kept, the rest starred (at least 4 stars): ``1****...**5X``."""
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) <= 4:
        return "****"
    return f"{text[0]}{'*' * max(4, len(text) - 3)}{text[-2:]}"


def mask_date(value: Any) -> str:
    """A birth date as its year only: ``1990-**-**`` (a date, or an ISO text)."""
    if value in (None, ""):
        return ""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"{value.year:04d}-**-**"
    text = str(value).strip()
    year = text[:4]
    return f"{year}-**-**" if year.isdigit() else "****-**-**"


def mask_street(value: str) -> str:
    """Nothing of a street is kept: ``***``."""
    return STARS if (value or "").strip() else ""


def mask_postal_code(value: str) -> str:
    """The first 2 characters (the province) kept: ``10****``."""
    text = (value or "").strip()
    if not text:
        return ""
    return f"{text[:2]}****" if len(text) > 2 else "****"


def mask_text(value: str) -> str:
    """Any other handle (WeChat, QQ, Weibo...): its first character and ``***``; ``***`` when short."""
    text = (value or "").strip()
    if not text:
        return ""
    return f"{text[0]}{STARS}" if len(text) >= 4 else STARS


def mask_contact(kind: str, value: Any) -> str:
    """``value`` masked by the rule of its kind: a contact method kind or one of ``FIELD_KINDS``."""
    if kind in PHONE_KINDS:
        return mask_phone(value)
    if kind == "email":
        return mask_email(value)
    if kind == "birth_date":
        return mask_date(value)
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "street":
        return mask_street(value)
    if kind == "postal_code":
        return mask_postal_code(value)
    if kind == "counterpart":
        return mask_counterpart(value)
    return mask_text("" if value is None else str(value))


def mask_counterpart(value: str) -> str:
    """An interaction's other side (a phone number or a mail address, whichever the channel gave)."""
    text = (value or "").strip()
    if "@" in text:
        return mask_email(parseaddr(text)[1] or text)  # "Amelia <amelia@example.com>": the address only
    if text and len(_NOT_DIGIT.sub("", text)) >= 3:
        return mask_phone(text)
    return mask_text(text)
