"""Who owns a contact value: the customers whose normalised email or phone equals one another system gave.

For matching what arrives from outside (mail from an address, a call from a number) to customers. It
reads every customer, whoever looks: the caller is a system job (mail in, a telephony feed), and what
it finds is stored on the customer's record, never shown to a person before the visibility rule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from customers.models import ContactMethod
from customers.normalize import PHONE_KINDS, contact_hash, normalize_contact

# A value shared by more customers than this is not a way to tell them apart (a switchboard number).
OWNERS_CAP = 20


@dataclass(frozen=True)
class ContactOwner:
    """A customer that has the value among its contact methods, and who owns that customer."""

    customer_id: uuid.UUID
    owner_id: Any
    customer_name: str


def contact_owners_by_value(*, kind: str, value: str) -> list[ContactOwner]:
    """The customers with this email address (``kind="email"``) or phone number (``"phone"``), oldest first.

    Matches the normalised value exactly (its blind index ``ContactMethod.value_hash``, indexed): any
    case of an address, a number in any spelling. One query; at most ``OWNERS_CAP`` customers.
    """
    normalised = normalize_contact(kind, value)
    if not normalised:
        return []
    kinds = list(PHONE_KINDS) if kind in PHONE_KINDS else [kind]
    rows = (
        ContactMethod.objects.filter(value_hash=contact_hash(normalised), kind__in=kinds)
        .order_by("customer__created_at", "customer_id")
        .values_list("customer_id", "customer__owner_id", "customer__name")[: OWNERS_CAP * 2]
    )
    owners: dict[Any, ContactOwner] = {}
    for customer_id, owner_id, name in rows:
        owners.setdefault(customer_id, ContactOwner(customer_id, owner_id, name))
    return list(owners.values())[:OWNERS_CAP]


def contact_owners_by_values(*, kind: str, values: list[str]) -> dict[str, list[ContactOwner]]:
    """``contact_owners_by_value`` for many values in one query: normalised value -> its customers."""
    normalised = {normalize_contact(kind, value) for value in values} - {""}
    if not normalised:
        return {}
    by_hash = {contact_hash(value): value for value in normalised}
    kinds = list(PHONE_KINDS) if kind in PHONE_KINDS else [kind]
    rows = (
        ContactMethod.objects.filter(value_hash__in=sorted(by_hash), kind__in=kinds)
        .order_by("customer__created_at", "customer_id")
        .values_list("value_hash", "customer_id", "customer__owner_id", "customer__name")
    )
    found: dict[str, dict[Any, ContactOwner]] = {}
    for value_hash, customer_id, owner_id, name in rows:
        owners = found.setdefault(by_hash[value_hash], {})
        if len(owners) < OWNERS_CAP:
            owners.setdefault(customer_id, ContactOwner(customer_id, owner_id, name))
    return {value: list(owners.values()) for value, owners in found.items()}


def customer_has_contact(*, customer: Any, kind: str, value: str) -> bool:
    """Whether ``customer`` already has this value (normalised) among its contact methods."""
    normalised = normalize_contact(kind, value)
    kinds = list(PHONE_KINDS) if kind in PHONE_KINDS else [kind]
    return ContactMethod.objects.filter(
        customer_id=customer.pk, value_hash=contact_hash(normalised), kind__in=kinds
    ).exists()
