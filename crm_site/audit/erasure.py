"""Erasing one customer's personal values from the audit trail, and re-sealing the chain (issue 13).

The trail keeps old and new values of every audited change, so an erasure (PIPL Art. 47, GDPR Art. 17)
must reach it too. ``audit_scrub_customer`` rewrites the entries of one customer (``customer_ref``, or
the customer row's own ``object_id``): every text value of a customers.* record, and every text value
elsewhere that contains one of the erased person's values, becomes "[erased]"; the entry's digest is
recomputed. The seals that list a rewritten entry, and every seal after the first of them, are then
re-sealed in sequence (their entry digests updated, their hash recomputed over the new previous hash),
under the sealing lease, so ``manage.py verify_audit`` passes again. What the entries say about who
did what and when (actor, action, record type and id, time) is kept; the erasure itself is recorded by
the caller as one more entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from crm_site.audit.models import AuditEntry, AuditSeal
from crm_site.audit.trail import GENESIS, _lease_release, _lease_take, _seal_hash, entry_digest

ERASED = "[erased]"
BATCH = 500
# Free-text columns of the other apps' audited records (orders' notes, tickets' text, line descriptions):
# their old and new values are erased whatever they say, a short name in them included.
FREE_TEXT = frozenset(
    {"notes", "description", "subject", "resolution", "name", "lost_reason", "body", "title"}
)


@dataclass(frozen=True)
class Scrubbed:
    entries: int
    seals: int


def _scrub(value: Any, terms: tuple[str, ...], *, every_text: bool) -> Any:
    if isinstance(value, str):
        if value == ERASED or not value:
            return value
        if every_text or any(term in value.lower() for term in terms):
            return ERASED
        return value
    if isinstance(value, dict):
        return {key: _scrub(item, terms, every_text=every_text) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, terms, every_text=every_text) for item in value]
    return value


def _scrub_entry(entry: AuditEntry, terms: tuple[str, ...]) -> bool:
    """Rewrite one entry in memory; whether anything changed."""
    # A customers.* record is the person's own data, all of it; the requests' entries say only counts.
    own = entry.model_label.startswith("customers.") and entry.model_label != "customers.DataSubjectRequest"
    if isinstance(entry.changes, dict):
        changes = {
            key: _scrub(value, terms, every_text=own or key in FREE_TEXT)
            for key, value in entry.changes.items()
        }
    else:
        changes = _scrub(entry.changes, terms, every_text=own)
    context = _scrub(entry.context, terms, every_text=False)
    representation = _scrub(entry.object_repr, terms, every_text=own)
    if (changes, context, representation) == (entry.changes, entry.context, entry.object_repr):
        return False
    entry.changes, entry.context, entry.object_repr = changes, context, representation
    entry.digest = entry_digest(entry)
    return True


def _reseal_from(seq: int) -> int:
    """Recompute every seal from ``seq`` on over its entries' current digests; the number re-sealed."""
    previous = AuditSeal.objects.filter(seq=seq - 1).values_list("hash", flat=True).first()
    prev_hash = previous or GENESIS
    resealed, last = 0, seq - 1
    while True:
        page = list(AuditSeal.objects.filter(seq__gt=last).order_by("seq")[:BATCH])
        if not page:
            return resealed
        for seal in page:
            last = seal.seq
            ids = [entry_id for entry_id, _digest in seal.entries]
            digests = {
                str(pk): digest
                for pk, digest in AuditEntry.objects.filter(pk__in=ids).values_list("pk", "digest")
            }
            seal.entries = [[entry_id, digests.get(entry_id, digest)] for entry_id, digest in seal.entries]
            seal.prev_hash = prev_hash
            seal.hash = _seal_hash(seq=seal.seq, at=seal.at, entries=seal.entries, prev_hash=prev_hash)
            seal.save(update_fields=["entries", "prev_hash", "hash"])
            prev_hash = seal.hash
            resealed += 1


def audit_scrub_customer(*, customer_id: Any, values: Iterable[str]) -> Scrubbed:
    """Replace the customer's personal ``values`` in their audit entries and re-seal; run in a transaction.

    ValidationError when another process is sealing at this moment (retry in a minute).
    """
    terms = tuple(sorted({value.strip().lower() for value in values if value and len(value.strip()) >= 2}))
    token = _lease_take()
    if token is None:
        raise ValidationError(_("The audit trail is being sealed right now; try the erasure again shortly."))
    try:
        changed: list[AuditEntry] = []
        first_seal: int | None = None
        entries = AuditEntry.objects.filter(
            Q(customer_ref=str(customer_id)) | Q(model_label="customers.Customer", object_id=str(customer_id))
        ).select_related("seal")
        for entry in entries.iterator(chunk_size=BATCH):
            if _scrub_entry(entry, terms):
                changed.append(entry)
                if entry.seal is not None and (first_seal is None or entry.seal.seq < first_seal):
                    first_seal = entry.seal.seq
        for start in range(0, len(changed), BATCH):
            AuditEntry.objects.bulk_update(
                changed[start : start + BATCH], ["changes", "context", "object_repr", "digest"]
            )
        resealed = _reseal_from(first_seal) if first_seal is not None else 0
    finally:
        _lease_release(token)
    return Scrubbed(entries=len(changed), seals=resealed)
