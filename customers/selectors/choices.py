"""Finding a customer to pick: the one matching rule for every customer field, its JSON lookup and search.

``customer_choices(user=, query=)`` matches a name or company, an external id, an email address (or the
start of one) and a phone number (or a run of its digits) among the customers ``user`` may see
(``visible_to``), and returns each with what tells it apart from a namesake: its phone or email and
external id. Nothing outside the user's visibility is ever returned, so no answer hints that a customer
exists elsewhere.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from customers.models import ContactMethod, Customer
from customers.normalize import (
    PHONE_GRAM_DIGITS,
    PHONE_KINDS,
    candidate_hashes,
    gram_hash,
    normalize_contact,
    normalize_phone,
)
from customers.selectors.pii import masker
from customers.selectors.visibility import visible_customer_filter

# Each way of matching contributes at most this many ids before visibility and ordering.
MATCH_CAP = 200
# A run of at least this many digits is looked for inside phone numbers ("2493").
PHONE_DIGITS_MIN = 4
# Shorter texts match the start of a name or email only (a trigram index cannot serve 1-2 characters).
SUBSTRING_MIN_LENGTH = 3
_DIGITS_ONLY = re.compile(r"^[\d\s()+\-.]+$")


@dataclass(frozen=True)
class CustomerChoice:
    """A customer as a picker shows it: its name and what tells it apart (phone or email, external id)."""

    pk: uuid.UUID
    name: str
    company_name: str = ""
    external_id: str = ""
    phone: str = ""
    email: str = ""
    exact: bool = False  # the query equals its external id, a contact value or its whole name
    # The model instance (read through visible_to) for the services that take one.
    customer: Customer | None = field(default=None, compare=False, repr=False)

    @property
    def hint(self) -> str:
        """Phone (or else email) and external id, e.g. "139 1234 5678 · DEMO-0001014"."""
        return " · ".join(part for part in (self.phone or self.email, self.external_id) if part)

    @property
    def label(self) -> str:
        """How a chosen customer reads in a form: "Name · phone · external id" (never its id)."""
        return " · ".join(part for part in (self.name, self.hint) if part)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.pk),
            "name": self.name,
            "company": self.company_name,
            "hint": self.hint,
            "label": self.label,
            "url": Customer(pk=self.pk).get_absolute_url(),
        }


def _phone_digits(text: str) -> str:
    """The digits of a text that is a (partial) phone number, "" for any other text."""
    if not _DIGITS_ONLY.match(text):
        return ""
    digits = normalize_phone(text)
    return digits if len(digits) >= PHONE_DIGITS_MIN else ""


def contact_match(text: str) -> Q:
    """The contact methods ``text`` may match: a whole value (its blind index), the start of an email
    address (its clear local part), 4+ digits inside a phone (the hashes of its 4-digit runs).

    One half of the customer matching rule (the other is ``customer_match``); the customer list's search
    uses both too, so a "more" link from the global search lists what the search found. The values are
    encrypted (issue 13), so this is a superset for the partial forms: ``contact_matches`` then checks the
    decrypted value of each row it returns.
    """
    contact = Q(value_hash__in=candidate_hashes(text))
    if digits := _phone_digits(text):
        # The first and the last run of the text must both be among the number's runs.
        runs = {digits[:PHONE_GRAM_DIGITS], digits[-PHONE_GRAM_DIGITS:]}
        grams = Q(kind__in=PHONE_KINDS)
        for run in sorted(runs):
            grams &= Q(value_grams__contains=gram_hash(run))
        contact |= grams
    if len(text) >= SUBSTRING_MIN_LENGTH and " " not in text:
        local, at, _domain = text.lower().partition("@")
        email = Q(value_tail=local) if at else Q(value_tail__startswith=local)
        contact |= Q(kind=ContactMethod.Kind.EMAIL) & email
    return contact


def contact_matches(text: str, *, kind: str, value: Any, value_hash: str) -> bool:
    """Whether a row that ``contact_match(text)`` returned really matches (on its decrypted value)."""
    if value_hash in candidate_hashes(text):
        return True
    normalised = normalize_contact(kind, str(value))
    if kind in PHONE_KINDS:
        digits = _phone_digits(text)
        return bool(digits) and digits in normalised
    if kind == ContactMethod.Kind.EMAIL:
        return len(text) >= SUBSTRING_MIN_LENGTH and " " not in text and normalised.startswith(text.lower())
    return False


def customer_match(text: str) -> Q:
    """The customers ``text`` matches by their own fields: name or company containing it (starting with
    it for 1-2 characters), external id starting with it."""
    lookup = "icontains" if len(text) >= SUBSTRING_MIN_LENGTH else "istartswith"
    return (
        Q(**{f"name__{lookup}": text})
        | Q(**{f"company_name__{lookup}": text})
        # Any case, through the unique index's pattern twin (not UPPER(...), which no btree serves).
        | Q(external_id__startswith=text)
        | Q(external_id__startswith=text.upper())
        | Q(external_id__startswith=text.lower())
    )


def _matches(visible: Any, text: str, *, user: Any) -> tuple[dict[Any, str], set[Any]]:
    """(customer id -> name for every match, the ids that match exactly), two queries.

    One query over contact values (whole normalised value, email prefix, phone digits), one over the
    customers (name or company, external id); each capped at MATCH_CAP rows, visibility applied in both.
    """
    from customers.services.pii import contact_search_allowed

    folded = text.casefold()
    candidates = set(candidate_hashes(text))
    contact = contact_match(text)
    names: dict[Any, str] = {}
    exact: set[Any] = set()
    # A masked user's contact-value search takes a reveal unit (issue 13 review); otherwise names only.
    searched = contact_search_allowed(user=user, query=text)
    for customer_id, kind, value, value_hash, name in (
        ContactMethod.objects.filter(contact, visible_customer_filter(user=user))
        .order_by()
        .values_list("customer_id", "kind", "value", "value_hash", "customer__name")[:MATCH_CAP]
        if searched
        else []
    ):
        if not contact_matches(text, kind=kind, value=value, value_hash=value_hash):
            continue
        names[customer_id] = name
        if value_hash in candidates:
            exact.add(customer_id)
    for pk, name, external_id in (
        visible.filter(customer_match(text)).order_by().values_list("pk", "name", "external_id")[:MATCH_CAP]
    ):
        names[pk] = name
        if external_id == text or name.casefold() == folded:
            exact.add(pk)
    return names, exact


def _contacts(pks: list[Any]) -> dict[Any, tuple[str, str]]:
    """customer pk -> (first phone, first email), primary ones first (one query)."""
    found: dict[Any, list[str]] = {}
    rows = (
        ContactMethod.objects.filter(customer_id__in=pks, kind__in=[*PHONE_KINDS, ContactMethod.Kind.EMAIL])
        .order_by("-is_primary", "created_at")
        .values_list("customer_id", "kind", "value")
    )
    for customer_id, kind, value in rows:
        phone_email = found.setdefault(customer_id, ["", ""])
        slot = 1 if kind == ContactMethod.Kind.EMAIL else 0
        phone_email[slot] = phone_email[slot] or value
    return {pk: (values[0], values[1]) for pk, values in found.items()}


def _choices(customers: list[Customer], exact: set[Any], *, user: Any) -> list[CustomerChoice]:
    """The choices, their phone and email as ``user`` may see them (masked without view_pii)."""
    contacts = _contacts([customer.pk for customer in customers])
    show = masker(user)
    return [
        CustomerChoice(
            pk=customer.pk,
            name=customer.name,
            company_name=customer.company_name,
            external_id=customer.external_id or "",
            phone=show(contacts.get(customer.pk, ("", ""))[0], "phone"),
            email=show(contacts.get(customer.pk, ("", ""))[1], "email"),
            exact=customer.pk in exact,
            customer=customer,
        )
        for customer in customers
    ]


def customer_choices(*, user: Any, query: str, limit: int = 10) -> list[CustomerChoice]:
    """The customers ``user`` may see that match ``query``, exact matches first, then by name.

    Matches: the whole external id, contact value (email, phone in any spelling) or name; the start of
    an external id or email address; a run of 4+ digits inside a phone number; a name or company
    containing the text (starting with it for 1-2 characters). At most ``limit`` choices; a fixed
    number of queries whatever the data size.
    """
    text = (query or "").strip()
    if not text or limit <= 0:
        return []
    visible = Customer.objects.visible_to(user)
    names, exact = _matches(visible, text, user=user)
    best = sorted(names, key=lambda pk: (pk not in exact, names[pk].casefold(), str(pk)))[:limit]
    if not best:
        return []
    rows = {row.pk: row for row in visible.filter(pk__in=best)}
    return _choices([rows[pk] for pk in best if pk in rows], exact, user=user)


def customer_choice_get(*, user: Any, pk: Any) -> CustomerChoice | None:
    """The visible customer with id ``pk`` as a choice; None when there is none (or ``pk`` is no id)."""
    try:
        key = uuid.UUID(str(pk))
    except (ValueError, TypeError, AttributeError):
        return None
    try:
        customer = Customer.objects.visible_to(user).filter(pk=key).first()
    except (ValueError, ValidationError):
        return None
    return _choices([customer], set(), user=user)[0] if customer is not None else None
