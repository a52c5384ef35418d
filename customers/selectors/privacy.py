"""Reads for data-subject requests and the suppression list (issue 13).

``suppressed(kind, value)`` answers whether an erased person's phone, email, external id or ID number
is being brought back: the value is normalised the way the erasure normalised it and its keyed hash
(``crm_site.crypto.blind_index``, purpose ``suppression-<kind>``) looked up; the value itself was never
kept. Requests are the privacy team's: only holders of ``customers.view_datasubjectrequest`` open the
pages, and they see the requests of the customers they may read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from crm_site.crypto import blind_index
from crm_site.visibility import sees_everything
from customers.models import ContactMethod, Customer, DataSubjectRequest, Suppression
from customers.normalize import normalize_contact, normalize_phone

Kind = Suppression.Kind


def suppression_normalize(kind: str, value: Any) -> str:
    """The form a value is hashed in: phone digits without +86, lowercased email, trimmed ids."""
    text = str(value or "").strip()
    if kind == Kind.PHONE:
        return normalize_phone(text)
    if kind == Kind.EMAIL:
        return text.lower()
    if kind == Kind.ID_NUMBER:
        return text.upper().replace(" ", "")
    if kind == Kind.HANDLE:
        return text.lower()
    return text


def _phone_spellings(text: str) -> set[str]:
    """A phone's digits as ``normalize_phone`` gives them, and, written with +86 / 0086, the domestic
    form: the area code's leading 0 restored (+86 10 6552 9988 is 010-65529988). Only the suppression
    comparison uses this; the contact blind index (``normalize_phone``) is unchanged."""
    spellings = {normalize_phone(text)}
    compact = re.sub(r"[\s().-]+", "", text)
    if compact.startswith("+") or compact.startswith("0086"):
        digits = re.sub(r"\D+", "", compact)
        if digits.startswith("00"):
            digits = digits[2:]
        if digits.startswith("86") and len(digits) in (12, 13):
            rest = digits[2:]
            if not (len(rest) == 11 and rest.startswith("1")):  # a mobile: already without 86
                spellings.add(rest if rest.startswith("0") else "0" + rest)
    return {spelling for spelling in spellings if spelling}


def _email_spellings(text: str) -> set[str]:
    """An address lowercased, without a ``mailto:`` prefix, and without its +tag (wang.fang+1@ is
    wang.fang@'s mailbox)."""
    address = text.strip().lower()
    if address.startswith("mailto:"):
        address = address[len("mailto:") :].strip()
    spellings = {address}
    local, at, domain = address.partition("@")
    if at and "+" in local:
        spellings.add(f"{local.partition('+')[0]}@{domain}")
    return {spelling for spelling in spellings if spelling}


def _looks_like_phone(text: str) -> bool:
    """All digits once +, spaces and - ( ) . are dropped, and long enough to be a number."""
    compact = re.sub(r"[\s().+-]+", "", text)
    return compact.isdigit() and len(compact) >= 5


def suppression_entries(kind: str, value: Any) -> set[tuple[str, str]]:
    """Every (kind, keyed hash) a value is suppressed and checked under: all its candidate spellings
    (issue 13 review: +86 landlines, +tagged or mailto: addresses), and a WeChat/QQ/Weibo handle that is
    all digits (a QQ number, a mobile entered as WeChat) also as a phone."""
    text = str(value or "").strip()
    if not text:
        return set()
    if kind == Kind.PHONE:
        spellings = {(Kind.PHONE.value, spelling) for spelling in _phone_spellings(text)}
    elif kind == Kind.EMAIL:
        spellings = {(Kind.EMAIL.value, spelling) for spelling in _email_spellings(text)}
    else:
        spellings = {(str(kind), suppression_normalize(kind, text))}
    if kind == Kind.HANDLE and _looks_like_phone(text):
        spellings |= {(Kind.PHONE.value, spelling) for spelling in _phone_spellings(text)}
    return {
        (entry_kind, blind_index(spelling, purpose=f"suppression-{entry_kind}"))
        for entry_kind, spelling in spellings
        if spelling
    }


def suppression_hash(kind: str, value: Any) -> str:
    """The keyed hash of a value's plain normalised form ("" for an empty value)."""
    return blind_index(suppression_normalize(kind, value), purpose=f"suppression-{kind}")


def suppressed_many(kind: str, values: Iterable[Any]) -> set[Any]:
    """Those of ``values`` that belong to an erased person (one query): any of a value's spellings."""
    entries: dict[tuple[str, str], list[Any]] = {}
    for value in values:
        for entry in suppression_entries(kind, value):
            entries.setdefault(entry, []).append(value)
    if not entries:
        return set()
    found = Suppression.objects.filter(value_hash__in=[digest for _kind, digest in entries]).values_list(
        "kind", "value_hash"
    )
    return {value for kind_found, digest in found for value in entries.get((kind_found, digest), [])}


def suppressed(kind: str, value: Any) -> bool:
    """Whether one value belongs to an erased person."""
    return bool(suppressed_many(kind, [value]))


def data_requests_visible(*, user: Any) -> QuerySet[DataSubjectRequest]:
    """The requests of the customers ``user`` reads (managers: all); a request whose customer row is
    gone entirely stays with those who see everything."""
    requests = DataSubjectRequest.objects.select_related("customer", "handled_by")
    if sees_everything(user):
        return requests
    readable = list(Customer.objects.visible_to(user).values_list("pk", flat=True))
    return requests.filter(customer_id__in=readable)


def data_request_list(*, user: Any, status: str = "") -> QuerySet[DataSubjectRequest]:
    """The list page's requests, oldest due first, filtered by status ("open": received or in progress)."""
    requests = data_requests_visible(user=user)
    if status == "open":
        requests = requests.filter(
            status__in=[DataSubjectRequest.Status.RECEIVED, DataSubjectRequest.Status.IN_PROGRESS]
        )
    elif status in DataSubjectRequest.Status.values:
        requests = requests.filter(status=status)
    return requests.order_by("due_at", "id")


def data_request_get(*, user: Any, pk: Any) -> DataSubjectRequest:
    """One request ``user`` may see; 404 otherwise (a 403 would confirm it exists)."""
    found = data_requests_visible(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def data_request_overdue(request: DataSubjectRequest) -> bool:
    """Still open past its legal due date."""
    return (
        request.status
        in (
            DataSubjectRequest.Status.RECEIVED,
            DataSubjectRequest.Status.IN_PROGRESS,
        )
        and request.due_at < timezone.now()
    )


def data_requests_of_customer(*, customer: Any) -> list[DataSubjectRequest]:
    return list(DataSubjectRequest.objects.filter(customer=customer).order_by("-received_at")[:10])


SUPPRESSION_FIELDS = {
    Kind.PHONE: "phone",
    Kind.EMAIL: "email",
    Kind.EXTERNAL_ID: "external_id",
    Kind.ID_NUMBER: "id_number",
    Kind.HANDLE: "handle",
}


def suppression_refusals(
    *,
    phones: Iterable[Any] = (),
    emails: Iterable[Any] = (),
    external_id: Any = "",
    id_number: Any = "",
    handles: Iterable[Any] = (),
) -> list[tuple[str, str]]:
    """(field, message) for each value of a new customer that belongs to an erased person.

    The message says only that the value cannot be used: not whose it was, nor that anyone was erased.
    """
    from django.utils.translation import gettext as _

    wanted = {
        Kind.PHONE: [value for value in phones if value],
        Kind.EMAIL: [value for value in emails if value],
        Kind.EXTERNAL_ID: [external_id] if external_id else [],
        Kind.ID_NUMBER: [id_number] if id_number else [],
        Kind.HANDLE: [value for value in handles if value],
    }
    refusals = []
    for kind, values in wanted.items():
        for value in sorted(suppressed_many(kind, values), key=str):
            refusals.append(
                (
                    SUPPRESSION_FIELDS[kind],
                    _("%(field)s “%(value)s” cannot be used for a new customer.")
                    % {"field": Kind(kind).label, "value": value},
                )
            )
    return refusals


def contact_values_of(*, customer_id: Any) -> set[str]:
    """A customer's contact values as typed, lowercased and (phones) as digits: what another app's
    records from the same person may carry (an unknown sender's address in the inbox)."""
    found: set[str] = set()
    # The values decrypt here (issue 13); the normalised form is computed from them.
    for kind, value in ContactMethod.objects.filter(customer_id=customer_id).values_list("kind", "value"):
        value = str(value)
        found |= {value, value.strip(), value.strip().lower(), normalize_contact(kind, value)}
    return {value for value in found if value}
