"""Writing, sealing and verifying the audit trail.

Who: the user of the current request (set by ``AuditRequestMiddleware``, read when the entry is written,
so an API token's user counts too) or the user given to ``acting_as`` (imports and tasks run as the
user who started them).

What is recorded, and where:
- every save and delete of an audited model (``AUDITED``) through the ORM's signals: services, the
  admin's forms and actions, the API. ``model_update`` hands the old values over, so an update service's
  change costs no extra read; any other ``save()`` of an existing row reads its old values once;
- the bulk paths that bypass signals (imports, merges, bulk owner changes) call ``record_many``: one
  entry per row, written with ``bulk_create`` in the batch that wrote the rows;
- exports (``crm_site.exports``) and reveals of personal data (``record``).

Sealing: an entry is written in its change's transaction (it rolls back with it) with its keyed digest;
after commit, ``seal_pending`` chains the entries written meanwhile into seals (one per 1,000 entries),
each holding its entries' digests and the previous seal's hash. One process seals at a time (a lease
row taken by a conditional UPDATE, atomic on SQLite, PostgreSQL and MongoDB alike), so writers never
wait for each other on the chain, however long an import's transaction is.
"""

from __future__ import annotations

import contextvars
import datetime
import decimal
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.db import DatabaseError, connections, models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from crm_site.audit.models import AuditEntry, AuditLease, AuditSeal
from crm_site.db import atomic, create_once, on_commit

logger = logging.getLogger(__name__)

# The records whose changes are kept (issue 13: customers, contact methods and consent, orders, tickets,
# segments; campaigns and articles join when their models exist).
AUDITED: tuple[str, ...] = (
    "customers.Customer",
    "customers.ContactMethod",
    "customers.Address",
    "orders.SalesOrder",
    "orders.OrderLine",
    "orders.ServiceOrder",
    "profiles.Segment",
)
# Bookkeeping columns whose change says nothing a reader needs (and auto_now changes on every save).
# value_hash / value_tail / value_grams: a contact's blind index, clear tail and digit-run hashes
# (issue 13) say nothing a reader of the trail needs, and the tail is personal data; the masked value is
# recorded instead.
SKIPPED_FIELDS = frozenset({"id", "created_at", "updated_at", "value_hash", "value_tail", "value_grams"})
SEAL_BATCH = 1000
GENESIS = "0" * 64
LEASE_SECONDS = 120
_OLD = "_audit_old"
_RECORDED = "_audit_recorded"


@dataclass(frozen=True)
class _Acting:
    request: Any = None
    user: Any = None
    via: str = ""


_acting: contextvars.ContextVar[_Acting | None] = contextvars.ContextVar("crm_audit_acting", default=None)


@contextmanager
def acting_as(user: Any, *, via: str) -> Iterator[None]:
    """Entries written inside the block name ``user`` (may be None) and how the change came (``via``)."""
    token = _acting.set(_Acting(user=user, via=via))
    try:
        yield
    finally:
        _acting.reset(token)


class AuditRequestMiddleware:
    """Makes the current request (hence its user and address) known to the entries written while it runs."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _acting.set(_Acting(request=request))
        try:
            return self.get_response(request)
        finally:
            _acting.reset(token)


def _who(actor: Any = None) -> tuple[str, str, dict[str, Any]]:
    """(actor key, actor username, context) for a new entry."""
    acting = _acting.get()
    context: dict[str, Any] = {}
    user = actor
    if acting is not None and acting.request is not None:
        from crm_site.security.client_ip import client_ip

        request = acting.request
        path = request.path
        via = "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "web"
        context = {"via": via, "path": path[:200], "ip": client_ip(request)}
        if user is None:
            user = getattr(request, "user", None)
    elif acting is not None:
        context = {"via": acting.via}
        if user is None:
            user = acting.user
    else:
        context = {"via": "system"}
    if user is None or not getattr(user, "is_authenticated", False):
        return "", "", context
    return str(user.pk), user.get_username()[:150], context


def plain(value: Any) -> Any:
    """``value`` as JSON that reads back identically on every backend (the digest is computed over it)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time, decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    return str(value)


def _now() -> datetime.datetime:
    # MongoDB keeps milliseconds: the moment is cut to them so that it reads back as digested.
    moment = timezone.now()
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


_keys: dict[str, bytes] = {}


def _key() -> bytes:
    configured = getattr(settings, "AUDIT_CHAIN_KEY", "") or ""
    secret = configured or f"crm-audit-chain:{settings.SECRET_KEY}"
    key = _keys.get(secret)
    if key is None:
        key = _keys[secret] = hashlib.sha256(secret.encode()).digest()
    return key


def _mac(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(_key(), text.encode(), hashlib.sha256).hexdigest()


def entry_digest(entry: AuditEntry) -> str:
    """The keyed digest of everything an entry says (its seal link aside)."""
    at = entry.at.astimezone(datetime.UTC) if timezone.is_aware(entry.at) else entry.at
    return _mac(
        [
            str(entry.pk),
            at.isoformat(),
            entry.actor_ref,
            entry.actor_label,
            entry.action,
            entry.model_label,
            entry.object_id,
            entry.object_repr,
            entry.customer_ref,
            entry.changes,
            entry.context,
        ]
    )


def _seal_hash(*, seq: int, at: datetime.datetime, entries: list[Any], prev_hash: str) -> str:
    at = at.astimezone(datetime.UTC) if timezone.is_aware(at) else at
    return _mac([seq, at.isoformat(), entries, prev_hash])


def customer_ref_of(instance: models.Model) -> str:
    """The customer an audited row's personal data belongs to ('' when none)."""
    if instance._meta.label == "customers.Customer":
        return str(instance.pk)
    customer_id = getattr(instance, "customer_id", None)
    if customer_id is None and hasattr(instance, "order_id"):
        order = getattr(instance, "order", None)
        customer_id = getattr(order, "customer_id", None)
    return "" if customer_id is None else str(customer_id)


# Personal data encrypted at rest (issue 13) is not written into the trail in clear: the values of a
# model's encrypted fields (``crm_site.fields``) are stored masked. An app registers how its values mask
# (``customers.masking``, from ``CustomersConfig.ready``): label -> (instance or None, attname, value) ->
# masked; a model without a masker gets "***". ``audit_reprs`` does the same for an entry's object name
# (a contact's ``str()`` is its value).
audit_maskers: dict[str, Callable[[Any, str, Any], Any]] = {}
audit_reprs: dict[str, Callable[[Any], str]] = {}
MASKED = "***"


def _encrypted_names(model: type[models.Model]) -> set[str]:
    return {field.attname for field in model._meta.concrete_fields if getattr(field, "encrypted", False)}


def masked_changes(
    model: type[models.Model] | None, instance: Any, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """``changes`` with the values of ``model``'s encrypted fields masked (the rest as it is)."""
    names = _encrypted_names(model) if model is not None else set()
    if not names:
        return dict(changes)
    masker = audit_maskers.get(model._meta.label) if model is not None else None

    def mask(name: str, value: Any) -> Any:
        if value in (None, ""):
            return value
        return masker(instance, name, value) if masker else MASKED

    return {
        name: ([mask(name, value) for value in pair] if isinstance(pair, list | tuple) else mask(name, pair))
        if name in names
        else pair
        for name, pair in changes.items()
    }


def build(
    *,
    action: str,
    instance: models.Model | None = None,
    model_label: str = "",
    object_id: Any = "",
    object_repr: str = "",
    customer_ref: Any = "",
    changes: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    actor: Any = None,
    who: tuple[str, str, dict[str, Any]] | None = None,
    at: datetime.datetime | None = None,
) -> AuditEntry:
    """An unsaved entry with its digest; ``instance`` fills the record's label, id, name and customer."""
    actor_ref, actor_label, context = who or _who(actor)
    if extra:
        context = {**context, **plain(extra)}
    model: type[models.Model] | None = None
    if instance is not None:
        model = type(instance)
        model_label = model_label or instance._meta.label
        object_id = object_id or instance.pk
        shown = audit_reprs.get(instance._meta.label)
        object_repr = object_repr or (shown(instance) if shown else str(instance))
        customer_ref = customer_ref or customer_ref_of(instance)
    elif model_label:
        try:
            model = django_apps.get_model(model_label)
        except (LookupError, ValueError):
            model = None
    if changes:
        changes = masked_changes(model, instance, changes)
    entry = AuditEntry(
        at=at or _now(),
        actor_ref=actor_ref,
        actor_label=actor_label,
        action=action,
        model_label=model_label,
        object_id=str(object_id or ""),
        object_repr=str(object_repr)[:200],
        customer_ref=str(customer_ref or ""),
        changes=plain(dict(changes or {})),
        context=context,
    )
    entry.digest = entry_digest(entry)
    return entry


def record(**kwargs: Any) -> AuditEntry:
    """Write one entry (in the current transaction) and seal it once that commits; see ``build``."""
    entry = build(**kwargs)
    entry.save(force_insert=True)
    _schedule_seal()
    return entry


def record_many(entries: Sequence[AuditEntry]) -> int:
    """Write entries built with ``build`` in one ``bulk_create`` (the bulk paths: imports, merges)."""
    if not entries:
        return 0
    AuditEntry.objects.bulk_create(entries, batch_size=SEAL_BATCH)
    _schedule_seal()
    return len(entries)


def record_export(*, filename: str) -> AuditEntry:
    """Who downloaded which export, with the list's filters (the query string) that chose the rows."""
    acting = _acting.get()
    request = acting.request if acting is not None else None
    query = request.META.get("QUERY_STRING", "")[:500] if request is not None else ""
    return record(action=AuditEntry.Action.EXPORT, object_repr=filename, extra={"query": query})


def record_reveal(
    *, instance: models.Model, field: str, reason: str = "", object_repr: str = ""
) -> AuditEntry:
    """Who was shown the full value of a masked personal field, and why (the value itself is not copied).

    ``object_repr`` names the record when its own name is the value (a contact method, an address).
    """
    extra = {"field": field, "reason": reason}
    return record(action=AuditEntry.Action.REVEAL, instance=instance, object_repr=object_repr, extra=extra)


def who() -> tuple[str, str, dict[str, Any]]:
    """The actor and context of the current request or ``acting_as`` block, for ``build(who=...)``:
    a bulk path computes it once for all its rows."""
    return _who()


def who_as(user: Any, *, via: str) -> tuple[str, str, dict[str, Any]]:
    """``who()`` for a path that runs as ``user`` (an import's uploader), in a request or a task."""
    with acting_as(user, via=via):
        return _who(user)


# ------------------------------------------------------------------------------------------------ changes


def _tracked_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if field.name not in SKIPPED_FIELDS]


def values_of(instance: models.Model, names: Iterable[str] | None = None) -> dict[str, Any]:
    """{field attname: value} of an instance's tracked fields (all, or those named)."""
    wanted = None if names is None else set(names)
    return {
        field.attname: getattr(instance, field.attname)
        for field in _tracked_fields(type(instance))
        if wanted is None or field.name in wanted or field.attname in wanted
    }


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value differs."""
    return {
        name: [plain(old.get(name)), plain(value)]
        for name, value in new.items()
        if plain(old.get(name)) != plain(value)
    }


def created_changes(instance: models.Model) -> dict[str, list[Any]]:
    """{field: [None, value]} of a new row's filled fields."""
    return {
        name: [None, plain(value)] for name, value in values_of(instance).items() if value not in (None, "")
    }


def remember_old(instance: models.Model, old: Mapping[str, Any]) -> None:
    """Hand a save's old values to the trail (``model_update`` knows them): the save reads nothing more."""
    instance.__dict__[_OLD] = dict(old)


def _is_audited(sender: Any) -> bool:
    return sender._meta.label in AUDITED


def _before_save(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kw: Any) -> None:
    if raw or not _is_audited(sender) or instance._state.adding or _OLD in instance.__dict__:
        return
    names = [field.attname for field in _tracked_fields(sender)]
    if update_fields is not None:
        names = [name for name in names if name in update_fields or name.removesuffix("_id") in update_fields]
    row = sender._base_manager.filter(pk=instance.pk).values(*names).first() if names else {}
    instance.__dict__[_OLD] = row or {}


def _after_save(
    sender: Any, instance: Any, created: bool, raw: bool = False, update_fields: Any = None, **kw: Any
) -> None:
    if raw or not _is_audited(sender):
        return
    old = instance.__dict__.pop(_OLD, {})
    if created:
        changes = {
            name: [None, plain(value)]
            for name, value in values_of(instance).items()
            if value not in (None, "")
        }
        record(action=AuditEntry.Action.CREATE, instance=instance, changes=changes)
        return
    changes = diff(old, {name: getattr(instance, name) for name in old})
    if changes:
        record(action=AuditEntry.Action.UPDATE, instance=instance, changes=changes)


def _after_delete(sender: Any, instance: Any, **kw: Any) -> None:
    if not _is_audited(sender):
        return
    changes = {
        name: [plain(value), None] for name, value in values_of(instance).items() if value not in (None, "")
    }
    record(action=AuditEntry.Action.DELETE, instance=instance, changes=changes)


def _history_panel(*, customer: Any, user: Any, **kwargs: Any) -> dict[str, Any]:
    return {}  # a link only: the customer page runs no query for it


def connect_signals() -> None:
    """Listen to the audited models' saves and deletes and add the customer page's History link
    (from ``CRMSiteConfig.ready``)."""
    from crm_site.registry import Panel, customer_panels

    customer_panels.register(
        Panel(key="history", template="audit/_customer_panel.html", context=_history_panel, order=900)
    )
    for label in AUDITED:
        pre_save.connect(_before_save, sender=label, dispatch_uid=f"audit-pre-{label}")
        post_save.connect(_after_save, sender=label, dispatch_uid=f"audit-post-{label}")
        post_delete.connect(_after_delete, sender=label, dispatch_uid=f"audit-del-{label}")


# ------------------------------------------------------------------------------------------------ sealing


def _seal_after_commit() -> None:
    try:
        seal_pending()
    except DatabaseError:
        # The entries are committed; the next seal (or ``verify_audit --seal``) chains them.
        logger.exception("audit: sealing failed; entries stay pending")


def _schedule_seal() -> None:
    connection = connections["default"]
    if connection.in_atomic_block and any(
        pending[1] is _seal_after_commit for pending in connection.run_on_commit
    ):
        return
    on_commit(_seal_after_commit)


def _lease_take() -> str | None:
    now = timezone.now()
    token = str(uuid.uuid4())
    if not AuditLease.objects.filter(name="seal").exists():
        create_once(AuditLease, name="seal")  # None: another process created it first
    taken = (
        AuditLease.objects.filter(name="seal")
        .filter(Q(until__isnull=True) | Q(until__lt=now))
        .update(until=now + datetime.timedelta(seconds=LEASE_SECONDS), token=token)
    )
    return token if taken else None


def _lease_release(token: str) -> None:
    AuditLease.objects.filter(name="seal", token=token).update(until=None, token="")


def _seal_batch(limit: int) -> int:
    """Chain up to ``limit`` pending entries into one new seal; the number sealed."""
    with atomic():
        pending = list(AuditEntry.objects.filter(seal__isnull=True).values_list("id", "at", "digest")[:limit])
        if not pending:
            return 0
        pending.sort(key=lambda row: (row[1], str(row[0])))
        tip = AuditSeal.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (tip[0] + 1, tip[1]) if tip else (1, GENESIS)
        listed = [[str(pk), digest] for pk, _at, digest in pending]
        at = _now()
        seal = AuditSeal.objects.create(
            seq=seq,
            at=at,
            entries=listed,
            prev_hash=prev_hash,
            hash=_seal_hash(seq=seq, at=at, entries=listed, prev_hash=prev_hash),
        )
        AuditEntry.objects.filter(pk__in=[pk for pk, _at, _digest in pending]).update(seal=seal)
    return len(pending)


def seal_pending(*, batch: int = SEAL_BATCH) -> int:
    """Chain every committed entry not yet sealed; the number sealed by this call.

    When another process holds the lease this returns at once: that process looks for pending entries
    again after releasing it, so nothing committed before this call is left behind.
    """
    total = 0
    while True:
        token = _lease_take()
        if token is None:
            return total
        try:
            while True:
                sealed = _seal_batch(batch)
                total += sealed
                if sealed < batch:
                    break
        finally:
            _lease_release(token)
        if not AuditEntry.objects.filter(seal__isnull=True).exists():
            return total


# ------------------------------------------------------------------------------------------------ verifying


@dataclass(frozen=True)
class Verdict:
    """What ``verify_chain`` found: the number of seals and entries checked, the first broken link."""

    seals: int
    entries: int
    pending: int
    problem: str = ""


def verify_chain(
    *, batch: int = 200, stale_after: datetime.timedelta = datetime.timedelta(hours=1)
) -> Verdict:
    """Walk every seal in order and every entry each lists; stop at the first broken link."""
    expected_seq, prev_hash, seals, entries, last_seq = 1, GENESIS, 0, 0, 0
    while True:
        page = list(AuditSeal.objects.filter(seq__gt=last_seq).order_by("seq")[:batch])
        if not page:
            break
        for seal in page:
            last_seq = seal.seq
            if seal.seq != expected_seq:
                return Verdict(
                    seals, entries, 0, f"seal #{expected_seq} is missing (next found: #{seal.seq})"
                )
            if seal.prev_hash != prev_hash:
                return Verdict(seals, entries, 0, f"seal #{seal.seq} does not follow seal #{seal.seq - 1}")
            if seal.hash != _seal_hash(
                seq=seal.seq, at=seal.at, entries=seal.entries, prev_hash=seal.prev_hash
            ):
                return Verdict(seals, entries, 0, f"seal #{seal.seq} was altered")
            problem = _check_entries(seal)
            if problem:
                return Verdict(seals, entries, 0, problem)
            seals += 1
            entries += len(seal.entries)
            expected_seq, prev_hash = seal.seq + 1, seal.hash
    pending = AuditEntry.objects.filter(seal__isnull=True)
    count = pending.count()
    stale = pending.filter(at__lt=timezone.now() - stale_after).order_by("at").first()
    if stale is not None:
        return Verdict(
            seals, entries, count, f"entry {stale.pk} ({stale.at:%Y-%m-%d %H:%M}) was never sealed"
        )
    return Verdict(seals, entries, count)


def _check_entries(seal: AuditSeal) -> str:
    listed = {entry_id: digest for entry_id, digest in seal.entries}
    rows = {str(entry.pk): entry for entry in AuditEntry.objects.filter(pk__in=list(listed))}
    for entry_id, digest in seal.entries:
        entry = rows.get(entry_id)
        if entry is None:
            return f"entry {entry_id} of seal #{seal.seq} was deleted"
        if entry.seal_id != seal.pk:
            return f"entry {entry_id} of seal #{seal.seq} was moved to another seal"
        if entry.digest != digest or entry_digest(entry) != digest:
            return f"entry {entry_id} of seal #{seal.seq} was altered"
    extra = (
        AuditEntry.objects.filter(seal=seal).exclude(pk__in=list(listed)).values_list("pk", flat=True).first()
    )
    if extra is not None:
        return f"entry {extra} claims seal #{seal.seq}, which does not list it"
    return ""
