"""Phone numbers and email addresses as tap-to-call and mail links: ``{{ value|contact_link:kind }}``."""

from __future__ import annotations

import re
from urllib.parse import quote

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

PHONE_KINDS = {"phone", "mobile"}
_NOT_DIALLED = re.compile(r"[^\d+]")
MASK_MARKS = ("*", "•", "…")


def contact_href(value: str, kind: str) -> str:
    """``tel:`` with the digits (and a leading +) for a phone, ``mailto:`` for an email, else ""."""
    value = (value or "").strip()
    if not value or any(mark in value for mark in MASK_MARKS):
        return ""  # empty, or masked for this viewer: nothing to call
    if kind in PHONE_KINDS:
        digits = _NOT_DIALLED.sub("", value)
        digits = digits[:1] + digits[1:].replace("+", "")
        return f"tel:{digits}" if any(ch.isdigit() for ch in digits) else ""
    if kind == "email" and "@" in value:
        return "mailto:" + quote(value, safe="@.+-_")
    return ""


@register.filter
def contact_link(value: str, kind: str) -> SafeString:
    """The value as a link when it can be called or mailed, escaped text otherwise."""
    href = contact_href(value, kind)
    if not href:
        return format_html("{}", value or "")
    return format_html('<a href="{}">{}</a>', href, value)
