"""Normalisation of contact values so that the same phone or email typed differently matches."""

from __future__ import annotations

import re

from crm_site.crypto import blind_index

_NON_DIGITS = re.compile(r"\D+")
PHONE_KINDS = {"phone", "mobile"}


def normalize_phone(value: str) -> str:
    """Digits only, without the China country code, so +86 138-0013-8000 equals 13800138000."""
    digits = _NON_DIGITS.sub("", value or "")
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalize_contact(kind: str, value: str) -> str:
    """The form a contact value is stored in for matching (not for display)."""
    value = (value or "").strip()
    if kind in PHONE_KINDS:
        return normalize_phone(value)
    return value.lower()


def search_candidates(query: str) -> list[str]:
    """Normalised values a search box entry could equal: as typed (lowercased), and as a phone number."""
    query = (query or "").strip()
    if not query:
        return []
    candidates = [query.lower()]
    digits = normalize_phone(query)
    compact = re.sub(r"\s+", "", query)
    # A phone number is mostly digits (with + - ( ) separators); "Zhang 3" is not a phone number.
    if len(digits) >= 5 and sum(ch.isdigit() for ch in compact) >= len(compact) * 0.6:
        candidates.append(digits)
    return list(dict.fromkeys(candidates))


# The blind index of a contact value (issue 13): one purpose for every kind, so equal normalised values
# hash equal whatever their kind, exactly as the normalised values themselves compared before.
CONTACT_HASH_PURPOSE = "contact"
# Phones keep their last digits beside the encrypted value, for the "last digits" search.
PHONE_TAIL_DIGITS = 4


def contact_hash(normalised: str) -> str:
    """The keyed hash stored in ``ContactMethod.value_hash`` ("" for "")."""
    return blind_index(normalised, purpose=CONTACT_HASH_PURPOSE)


def contact_tail(kind: str, normalised: str) -> str:
    """What a contact keeps in clear for partial search: a phone's last 4 digits (what the masked form
    ``138****8000`` shows anyway), an email's local part lowercased (the start-of-address search);
    nothing for other kinds."""
    if kind in PHONE_KINDS:
        return normalised[-PHONE_TAIL_DIGITS:]
    if kind == "email":
        return normalised.partition("@")[0][:200]
    return ""


def candidate_hashes(query: str) -> list[str]:
    """The blind indexes of ``search_candidates(query)``."""
    return [contact_hash(candidate) for candidate in search_candidates(query)]
