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
# A phone's runs of this many digits are kept as keyed hashes (``contact_grams``), for the "digits
# inside a number" search ("2493" finds 139 2493 1014); each hash is cut to GRAM_HEX hex digits.
PHONE_GRAM_DIGITS = 4
GRAM_HEX = 8
GRAM_PURPOSE = "phone-gram"


def contact_hash(normalised: str) -> str:
    """The keyed hash stored in ``ContactMethod.value_hash`` ("" for "")."""
    return blind_index(normalised, purpose=CONTACT_HASH_PURPOSE)


def gram_hash(digits: str) -> str:
    """The short keyed hash of one run of ``PHONE_GRAM_DIGITS`` digits."""
    return blind_index(digits, purpose=GRAM_PURPOSE)[:GRAM_HEX]


def contact_grams(kind: str, normalised: str) -> str:
    """A phone's every run of 4 digits as keyed hashes, space-separated (``ContactMethod.value_grams``);
    "" for other kinds. A search for 4+ digits looks for the hashes of its runs in it (``contains``, a
    trigram index on PostgreSQL), then checks the decrypted number."""
    if kind not in PHONE_KINDS:
        return ""
    runs = {normalised[i : i + PHONE_GRAM_DIGITS] for i in range(len(normalised) - PHONE_GRAM_DIGITS + 1)}
    return " ".join(sorted(gram_hash(run) for run in runs))


def contact_tail(kind: str, normalised: str) -> str:
    """What a contact keeps in clear for partial search: an email's local part lowercased (the
    start-of-address search); nothing for other kinds (phones search through ``contact_grams``)."""
    if kind == "email":
        return normalised.partition("@")[0][:200]
    return ""


def candidate_hashes(query: str) -> list[str]:
    """The blind indexes of ``search_candidates(query)``."""
    return [contact_hash(candidate) for candidate in search_candidates(query)]
