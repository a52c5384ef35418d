"""Revealing one masked personal value: an explicit, audited and throttled action (issue 13)."""

from __future__ import annotations

import re
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_site.audit.models import AuditEntry
from crm_site.audit.trail import record, record_reveal
from customers.models import Address, ContactMethod, Customer

# At most this many reveals per user in any sliding hour (CRM_PII_REVEALS_PER_HOUR overrides it).
REVEALS_PER_HOUR = 30
REASON_MAX_LENGTH = 200
CUSTOMER_FIELDS = ("birth_date", "id_number")
ADDRESS_FIELDS = ("street", "postal_code")


def reveal_limit() -> int:
    return int(getattr(settings, "CRM_PII_REVEALS_PER_HOUR", REVEALS_PER_HOUR))


WINDOW_SECONDS = 3600


def reveal_throttle_key(user: Any, window: int | None = None) -> str:
    """The cache key counting ``user``'s reveals in one fixed hour window (default: the current one).

    The account's creation moment is part of it: an id used again (a restored or rebuilt database) does
    not inherit another account's count.
    """
    joined = getattr(user, "date_joined", None)
    stamp = int(joined.timestamp() * 1_000_000) if joined is not None else 0
    if window is None:
        window = int(time.time() // WINDOW_SECONDS)
    return f"pii-reveal:{user.pk}:{stamp}:{window}"


def pii_budget_take(user: Any) -> bool:
    """Count one use of ``user``'s hourly reveal budget; False (and nothing counted) when it is spent.

    A sliding hour (issue 13 review: the clock-hour window let 60 through in two minutes around the
    hour): the current hour window's count plus the previous window's, weighted by the part of it still
    inside the last 3600 seconds. Each window's counter is created with ``cache.add`` and raised with
    ``cache.incr``, both atomic on the Redis cache production uses (SET NX, INCRBY), so concurrent
    requests cannot both take the last unit. On the file cache (the embedded mode) ``incr`` is a read
    then a write, so two processes at the same instant may both count as one: the limit can be exceeded
    by the number of simultaneous requests, never by a window's worth.
    """
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = reveal_throttle_key(user, window)
    cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
        count = cache.incr(key)
    previous = int(cache.get(reveal_throttle_key(user, window - 1), 0) or 0)
    still_inside = 1 - (now - window * WINDOW_SECONDS) / WINDOW_SECONDS
    if count + previous * still_inside > reveal_limit():
        cache.decr(key)  # a refused attempt does not use the budget
        return False
    return True


_CONTACT_LIKE = re.compile(r"^[\d\s()+\-.]+$")
_SEARCH_MEMO = "_pii_contact_search"


def looks_like_contact_value(query: str) -> bool:
    """A search term that could confirm a guessed contact value: 4+ phone digits, or an email address."""
    text = (query or "").strip()
    if "@" in text:
        return True
    return bool(_CONTACT_LIKE.match(text)) and sum(ch.isdigit() for ch in text) >= 4


def contact_search_allowed(*, user: Any, query: str) -> bool:
    """Whether a search may look at contact values (issue 13 review: the search was an oracle).

    Users who see values unmasked: always. Others: only when the term looks like a contact value
    (``looks_like_contact_value``) and the search takes one unit of the hourly reveal budget
    (``pii_budget_take``); each such search is an audit entry like a reveal (action ``reveal``, field
    ``search``, the term masked, whether it was granted). Answered once per term and request (kept on
    the request's user object), so a page that searches twice counts once.
    """
    from customers.masking import mask_contact
    from customers.selectors.pii import can_see_pii

    if can_see_pii(user):
        return True
    text = (query or "").strip()
    if not looks_like_contact_value(text):
        return False
    memo = getattr(user, _SEARCH_MEMO, None)
    if memo is None:
        memo = {}
        setattr(user, _SEARCH_MEMO, memo)
    if text not in memo:
        granted = pii_budget_take(user)
        masked = mask_contact("email" if "@" in text else "phone", text)
        record(
            action=AuditEntry.Action.REVEAL,
            object_repr=str(_("Search by a contact value")),
            extra={"field": "search", "query": masked, "granted": granted},
        )
        memo[text] = granted
    return bool(memo[text])


def contact_search_refused(*, user: Any, query: str) -> bool:
    """Whether this request's search for ``query`` was denied its contact-value part (over budget)."""
    memo = getattr(user, _SEARCH_MEMO, None) or {}
    return memo.get((query or "").strip()) is False


def contact_search_skipped_message() -> str:
    return _(
        "You have used this hour's reveals: phone numbers and email addresses were not searched, only "
        "names and external ids. Try again later."
    )


def reveal_field_value(*, customer: Customer, field: str) -> tuple[Any, str, Any]:
    """(the record holding the value, its kind, the full value) for a reveal field name.

    ``birth_date`` / ``id_number`` (the customer's own), ``contact:<id>`` (one of its contact methods),
    ``address:<id>:street`` / ``address:<id>:postal_code``. A name that names nothing of this customer is
    a ValidationError (code ``unknown_field``): never a hint about another customer's rows.
    """
    unknown = ValidationError(_("There is no such value to reveal."), code="unknown_field")
    if field in CUSTOMER_FIELDS:
        value = getattr(customer, field)
        if value in (None, ""):
            raise unknown
        return customer, field, value.isoformat() if field == "birth_date" else value
    kind, _sep, rest = field.partition(":")
    try:
        if kind == "contact":
            contact = ContactMethod.objects.filter(customer=customer, pk=rest).first()
            if contact is not None:
                return contact, str(contact.kind), contact.value
        elif kind == "address":
            address_pk, _sep, name = rest.partition(":")
            if name in ADDRESS_FIELDS:
                address = Address.objects.filter(customer=customer, pk=address_pk).first()
                if address is not None and getattr(address, name):
                    return address, name, getattr(address, name)
    except (ValueError, TypeError, ValidationError):
        pass  # a malformed id names nothing
    raise unknown


def pii_reveal(*, customer: Customer, field: str, reason: str, user: Any) -> str:
    """The full value of one personal field of ``customer`` (read through ``visible_to`` by the caller).

    The reason is required (at most 200 characters) and goes into the audit entry with the field's name
    (not the value). Throttled per user: past the hourly limit, a ValidationError with code
    ``throttled``; the limit counts every granted reveal in a sliding hour kept in the cache
    (``pii_budget_take``).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need to see this value.")}, code="required")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason under %(n)d characters.") % {"n": REASON_MAX_LENGTH}},
            code="max_length",
        )
    instance, _kind, value = reveal_field_value(customer=customer, field=field)
    if not pii_budget_take(user):
        raise ValidationError(
            _("You have revealed %(n)d values in the last hour; try again later.") % {"n": reveal_limit()},
            code="throttled",
        )
    # A contact method's or address's own name is its value: the entry names the customer and field.
    record_reveal(instance=instance, field=field, reason=reason, object_repr=f"{customer.name} · {field}")
    return str(value)
