"""Data-subject requests (issue 13, "Customers' rights"): receive, export, erase, refuse, complete.

Rules (each a named function raising ValidationError with a message the page shows as it is):

- ``_rule_has_customer``: a request acts on one customer; a request whose customer is gone can only be
  refused or completed.
- ``_rule_open``: a refused or completed request is closed; nothing more is done on it (an erasure may
  be run again, though: see below).
- ``_rule_is_erasure``: only an erasure request erases.
- ``_rule_not_erased``: after an erasure there is nothing left to export.
- ``_rule_no_blockers``: every app may hold an erasure back (``PersonalDataHandler.blockers``): the
  orders app does while the customer has an open ticket, since the service is still owed.
- ``_rule_done_before_complete``: an access or portability request completes once its archive is made,
  an erasure once it has run; a correction or objection is done on the customer's page and completes
  when the handler says so.
- ``_rule_reason``: a refusal says why (PIPL Art. 50, GDPR Art. 12(4) require the reason).

The due date is ``received_at`` + ``CRM_DSR_DUE_DAYS[law]`` days (defaults: PIPL 15, GDPR 30).

The erasure (``dsr_erase``) runs in one transaction: the suppression list first (keyed hashes of the
normalised phones, emails, external id and ID number, while the values are still there), then every
app's handler, the higher apps first (``crm_site.personal_data``), then the audit trail is scrubbed and
re-sealed (``crm_site.audit.erasure``), then one audit entry records the erasure with its counts. It is
re-runnable: a second run finds nothing, writes no new suppression and reports zeros.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import zipfile
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.audit import trail as audit
from crm_site.audit.erasure import audit_scrub_customer
from crm_site.db import atomic
from crm_site.personal_data import personal_data
from customers.models import Address, ConsentSource, ContactMethod, Customer, DataSubjectRequest, Suppression
from customers.normalize import PHONE_KINDS
from customers.selectors.privacy import suppression_entries

HANDLE_KINDS = {"wechat", "qq", "weibo"}

Status = DataSubjectRequest.Status
Kind = DataSubjectRequest.Kind
OPEN = (Status.RECEIVED, Status.IN_PROGRESS)
DEFAULT_DUE_DAYS: dict[str, int] = {DataSubjectRequest.Law.PIPL: 15, DataSubjectRequest.Law.GDPR: 30}


# ------------------------------------------------------------------------------------------------ rules


def _rule_has_customer(request: DataSubjectRequest) -> Customer:
    if request.customer_id is None:
        raise ValidationError(
            _("This request has no customer any more: it can only be refused or completed.")
        )
    return Customer.objects.get(pk=request.customer_id)


def _rule_open(request: DataSubjectRequest) -> None:
    if request.status not in OPEN:
        raise ValidationError(
            _("This request is %(status)s: nothing more can be done on it.")
            % {"status": request.get_status_display()}
        )


def _rule_is_erasure(request: DataSubjectRequest) -> None:
    if request.kind != Kind.ERASURE:
        raise ValidationError(_("Only an erasure request erases the customer's data."))


def _rule_not_erased(request: DataSubjectRequest) -> None:
    outcomes = DataSubjectRequest.objects.filter(customer=request.customer).values_list("outcome", flat=True)
    if any("erased" in (outcome or {}) for outcome in outcomes):
        raise ValidationError(_("This customer's data was erased: there is nothing left to export."))


def _rule_no_blockers(customer_id: Any) -> None:
    messages = [message for handler in personal_data.handlers() for message in handler.blockers(customer_id)]
    if messages:
        raise ValidationError(messages)


def _rule_done_before_complete(request: DataSubjectRequest) -> None:
    if request.kind in (Kind.ACCESS, Kind.PORTABILITY) and not request.archive:
        raise ValidationError(_("Make the export first: the customer is owed a copy of their data."))
    if request.kind == Kind.ERASURE and "erased" not in (request.outcome or {}):
        raise ValidationError(_("Run the erasure first."))


def _rule_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the request is refused: the customer must be told.")})
    return reason


# ------------------------------------------------------------------------------------------------ services


def dsr_due_at(*, law: str, received_at: datetime) -> datetime:
    days = getattr(settings, "CRM_DSR_DUE_DAYS", {}).get(law) or DEFAULT_DUE_DAYS.get(law, 15)
    return received_at + timedelta(days=int(days))


@atomic
def dsr_create(
    *,
    customer: Customer,
    kind: str,
    law: str,
    received_via: str,
    details: str = "",
    user: Any,
    received_at: datetime | None = None,
) -> DataSubjectRequest:
    """Record a request received from ``customer``; due by the law's deadline."""
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = _("Choose what the customer asks for.")
    if law not in DataSubjectRequest.Law.values:
        errors["law"] = _("Choose the law the request is made under.")
    if received_via not in ConsentSource.values:
        errors["received_via"] = _("Say how the request came in.")
    if errors:
        raise ValidationError(errors)
    received_at = received_at or timezone.now()
    request = DataSubjectRequest(
        customer=customer,
        kind=kind,
        law=law,
        received_via=received_via,
        details=(details or "").strip(),
        received_at=received_at,
        due_at=dsr_due_at(law=law, received_at=received_at),
        handled_by=user,
    )
    request.full_clean()
    request.save()
    return request


def _as(user: Any) -> Any:
    """The current request's actor when there is one (the page), else ``user`` (a task, a test)."""
    return contextlib.nullcontext() if audit.who()[0] else audit.acting_as(user, via="task")


def _row_text(value: Any) -> Any:
    plain = audit.plain(value)
    return json.dumps(plain, ensure_ascii=False) if isinstance(plain, (dict, list)) else plain


def dsr_archive_bytes(sections: dict[str, list[dict[str, Any]]]) -> bytes:
    """One zip: ``data.json`` with everything, and ``<section>.csv`` per section."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json", json.dumps(audit.plain(sections), ensure_ascii=False, indent=2, sort_keys=True)
        )
        for section, rows in sections.items():
            out = io.StringIO()
            columns = list(dict.fromkeys(name for row in rows for name in row))
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_row_text(row.get(name)) for name in columns])
            archive.writestr(f"{section}.csv", "\ufeff" + out.getvalue())
    return buffer.getvalue()


def dsr_sections(*, customer_id: Any) -> dict[str, list[dict[str, Any]]]:
    """Every app's sections for one customer, in handler order (master data first)."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for handler in personal_data.handlers():
        for section, rows in handler.export(customer_id).items():
            sections[f"{handler.key}.{section}" if section in sections else section] = rows
    return sections


@atomic
def dsr_export(*, request: DataSubjectRequest, user: Any) -> DataSubjectRequest:
    """Build the archive of everything held about the customer, store it on the request, audit it."""
    _rule_open(request)
    customer = _rule_has_customer(request)
    _rule_not_erased(request)
    sections = dsr_sections(customer_id=customer.pk)
    filename = f"data-request-{request.pk}.zip"
    if request.archive:
        request.archive.delete(save=False)
    request.archive.save(filename, ContentFile(dsr_archive_bytes(sections)), save=False)
    request.outcome = {
        **(request.outcome or {}),
        "exported": {name: len(rows) for name, rows in sections.items()},
    }
    request.status = Status.IN_PROGRESS
    request.handled_by = user
    request.save()
    with _as(user):
        audit.record_export(filename=filename)
    return request


def _identifiers(customer: Customer) -> dict[str, set[str]]:
    """The values to suppress, by kind, and the texts to scrub from the audit trail."""
    phones, emails, handles = set(), set(), set()
    texts = {customer.name, customer.company_name, customer.tax_number}
    for kind, value in ContactMethod.objects.filter(customer=customer).values_list("kind", "value"):
        texts.add(value)
        if kind in PHONE_KINDS:
            phones.add(value)
        elif kind == ContactMethod.Kind.EMAIL:
            emails.add(value)
        elif kind in HANDLE_KINDS:
            handles.add(value)
    for street in Address.objects.filter(customer=customer).values_list("street", flat=True):
        texts.add(street)
    ids = {str(customer.id_number)} if customer.id_number else set()
    external = {str(customer.external_id)} if customer.external_id else set()
    from customers.selectors.privacy import suppression_normalize

    texts |= ids | external | {suppression_normalize(Suppression.Kind.PHONE, phone) for phone in phones}
    return {
        Suppression.Kind.PHONE: phones,
        Suppression.Kind.EMAIL: emails,
        Suppression.Kind.EXTERNAL_ID: external,
        Suppression.Kind.ID_NUMBER: ids,
        Suppression.Kind.HANDLE: handles,
        "texts": {text for text in texts if text and len(text.strip()) >= 2},
    }


def _suppress(request: DataSubjectRequest, identifiers: dict[str, set[str]]) -> int:
    # Every candidate spelling of each value (issue 13 review: +86 landlines, +tagged addresses,
    # all-digit handles also as phones), so a later check under any of them finds the entry.
    wanted = {
        entry
        for kind in Suppression.Kind.values
        for value in identifiers.get(kind, ())
        for entry in suppression_entries(kind, value)
    }
    wanted = {(kind, digest) for kind, digest in wanted if digest}
    if not wanted:
        return 0
    known = set(
        Suppression.objects.filter(value_hash__in=[digest for _kind, digest in wanted]).values_list(
            "kind", "value_hash"
        )
    )
    new = [
        Suppression(kind=kind, value_hash=digest, request=request) for kind, digest in sorted(wanted - known)
    ]
    Suppression.objects.bulk_create(new)
    return len(new)


@atomic
def dsr_erase(*, request: DataSubjectRequest, user: Any) -> DataSubjectRequest:
    """Erase (anonymise) everything held about the request's customer; see the module docstring."""
    _rule_is_erasure(request)
    if request.status == Status.REFUSED:
        _rule_open(request)
    customer = _rule_has_customer(request)
    _rule_no_blockers(customer.pk)
    identifiers = _identifiers(customer)
    counts: dict[str, dict[str, int]] = {"suppressions": {"added": _suppress(request, identifiers)}}
    for handler in personal_data.erasure_order():
        counts[handler.key] = handler.erase(customer.pk, request=request)
    scrubbed = audit_scrub_customer(customer_id=customer.pk, values=identifiers["texts"])
    counts["audit"] = {"entries": scrubbed.entries, "seals": scrubbed.seals}
    request.refresh_from_db(fields=["details"])
    runs = list((request.outcome or {}).get("erased", []))
    runs.append({"at": timezone.now().isoformat(), "counts": counts})
    request.outcome = {**(request.outcome or {}), "erased": runs}
    if request.status == Status.RECEIVED:
        request.status = Status.IN_PROGRESS
    request.handled_by = user
    request.save()
    with _as(user):
        audit.record(
            action=audit.AuditEntry.Action.DELETE,
            model_label="customers.DataSubjectRequest",
            object_id=request.pk,
            object_repr=str(_("Erasure of personal data")),
            customer_ref=customer.pk,
            changes={"erased": counts},
        )
    return request


@atomic
def dsr_refuse(*, request: DataSubjectRequest, reason: str, user: Any) -> DataSubjectRequest:
    """Close the request as refused, with the reason the customer is told."""
    reason = _rule_reason(reason)
    _rule_open(request)
    request.status = Status.REFUSED
    request.refusal_reason = reason
    request.completed_at = timezone.now()
    request.handled_by = user
    request.full_clean()
    request.save()
    return request


@atomic
def dsr_complete(*, request: DataSubjectRequest, user: Any) -> DataSubjectRequest:
    """Close the request as answered."""
    _rule_open(request)
    _rule_done_before_complete(request)
    request.status = Status.COMPLETED
    request.completed_at = timezone.now()
    request.handled_by = user
    request.save()
    return request
