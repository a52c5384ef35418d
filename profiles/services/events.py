"""Behaviour event ingestion: a JSON batch from the API or a CSV file, validated row by row."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from crm_site.bulk import build_instances, field_defaults
from crm_site.db import atomic, on_commit
from crm_site.signals import customer_activity
from profiles.models import Event

MAX_BATCH = 1000
MAX_CSV_ROWS = 100_000
EVENT_TYPES = set(Event.EventType.values)
CSV_COLUMNS = (
    "customer_id",
    "customer_external_id",
    "event_type",
    "occurred_at",
    "channel",
    "idempotency_key",
)


@dataclass
class IngestResult:
    """What happened to a batch: how many were stored, already known, and which were rejected."""

    stored: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "errors": self.errors}


def _parse_moment(value: Any) -> datetime | None:
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = parse_datetime(value.strip().replace(" ", "T", 1) if "T" not in value else value.strip())
        except ValueError:
            return None
        if moment is None:
            return None
    else:
        return None
    # Senders without a zone are taken to mean UTC; everything is stored in UTC.
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _derived_key(customer_id: str, event_type: str, occurred_at: datetime, properties: dict) -> str:
    """A key for senders that give none: the same event delivered twice is still stored once."""
    raw = json.dumps(
        [customer_id, event_type, occurred_at.isoformat(), properties], sort_keys=True, default=str
    )
    return "auto:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _check(item: Any, latest: datetime) -> tuple[dict[str, Any], dict[str, str]]:
    """(cleaned fields, errors by field) for one raw event; customer resolution happens later.

    Plain Python checks (no full_clean per event: at 1,000-event batches it was most of the time).
    """
    errors: dict[str, str] = {}
    if not isinstance(item, dict):
        return {}, {"event": _("Each event must be a JSON object.")}
    cleaned: dict[str, Any] = {}
    customer_id = str(item.get("customer_id") or "").strip()
    external_id = str(item.get("customer_external_id") or "").strip()
    if customer_id:
        try:
            cleaned["customer_uuid"] = uuid.UUID(customer_id)
        except ValueError:
            errors["customer_id"] = _("“%(value)s” is not a valid customer id.") % {"value": customer_id[:60]}
    elif external_id:
        cleaned["external_id"] = external_id
    else:
        errors["customer_id"] = _("Give customer_id or customer_external_id.")
    event_type = str(item.get("event_type") or "").strip()
    if event_type not in EVENT_TYPES:
        errors["event_type"] = _("Unknown event type “%(value)s”; use one of %(types)s.") % {
            "value": event_type[:40],
            "types": ", ".join(sorted(EVENT_TYPES)),
        }
    cleaned["event_type"] = event_type
    moment = _parse_moment(item.get("occurred_at"))
    if moment is None:
        errors["occurred_at"] = _("occurred_at must be an ISO 8601 date and time.")
    elif moment > latest:
        errors["occurred_at"] = _("occurred_at lies in the future.")
    cleaned["occurred_at"] = moment
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        errors["properties"] = _("properties must be a JSON object.")
    elif properties and len(json.dumps(properties, default=str)) > 4000:
        errors["properties"] = _("properties are too large (at most 4,000 characters).")
    cleaned["properties"] = properties if isinstance(properties, dict) else {}
    channel = str(item.get("channel") or "").strip()
    if len(channel) > 30:
        errors["channel"] = _("channel is longer than 30 characters.")
    cleaned["channel"] = channel.lower()
    key = str(item.get("idempotency_key") or "").strip()
    if len(key) > 100:
        errors["idempotency_key"] = _("idempotency_key is longer than 100 characters.")
    cleaned["idempotency_key"] = key
    return cleaned, errors


def _resolve_customers(rows: list[dict[str, Any]], user: Any) -> tuple[dict[uuid.UUID, str], dict[str, str]]:
    """Which of the referenced customers exist and are visible to the sender (two queries)."""
    from customers.models import Customer
    from customers.selectors import customer_ids_by_external_id

    external = customer_ids_by_external_id(r["external_id"] for r in rows if "external_id" in r)
    wanted = {r["customer_uuid"] for r in rows if "customer_uuid" in r} | set(external.values())
    visible: set[uuid.UUID] = set()
    wanted_list = list(wanted)
    for start in range(0, len(wanted_list), 1000):
        visible.update(
            Customer.objects.visible_to(user)
            .filter(pk__in=wanted_list[start : start + 1000])
            .values_list("pk", flat=True)
        )
    return {pk: str(pk) for pk in visible}, {ext: str(pk) for ext, pk in external.items() if pk in visible}


def _validate(items: list[Any], user: Any) -> tuple[list[tuple[int, Event]], list[dict[str, Any]]]:
    latest = timezone.now() + timedelta(days=1)
    checked = [_check(item, latest) for item in items]
    by_pk, by_external = _resolve_customers([c for c, errors in checked if not errors], user)
    indexes: list[int] = []
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    now = timezone.now()
    for index, (cleaned, row_errors) in enumerate(checked):
        customer_id: str | None = None
        if not row_errors:
            customer_id = (
                by_pk.get(cleaned["customer_uuid"])
                if "customer_uuid" in cleaned
                else by_external.get(cleaned["external_id"])
            )
            if customer_id is None:
                row_errors["customer_id"] = _("No such customer (or not one this token may write to).")
        if row_errors or customer_id is None:
            errors.append({"index": index, "errors": row_errors})
            continue
        key = cleaned["idempotency_key"] or _derived_key(
            customer_id, cleaned["event_type"], cleaned["occurred_at"], cleaned["properties"]
        )
        indexes.append(index)
        rows.append(
            {
                "id": uuid.uuid4(),
                "customer_id": customer_id,
                "event_type": cleaned["event_type"],
                "occurred_at": cleaned["occurred_at"],
                "properties": cleaned["properties"],
                "channel": cleaned["channel"],
                "idempotency_key": key,
                "received_at": now,
            }
        )
    # Every field was checked above; skipping Model.__init__ halves the cost of a 1,000-event batch.
    valid = list(zip(indexes, build_instances(Event, field_defaults(Event), rows), strict=True))
    return valid, errors


def _store(events: list[Event]) -> tuple[int, int]:
    """(stored, duplicates): events whose key is known (in the DB or earlier in the batch) are skipped."""
    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.idempotency_key, event)
    for _attempt in range(3):
        keys = list(unique)
        known: set[str] = set()
        for start in range(0, len(keys), 1000):
            known.update(
                Event.objects.filter(idempotency_key__in=keys[start : start + 1000]).values_list(
                    "idempotency_key", flat=True
                )
            )
        fresh = [event for key, event in unique.items() if key not in known]
        try:
            with atomic():
                Event.objects.bulk_create(fresh, batch_size=1000)
        except IntegrityError:
            # A concurrent batch stored some of the same keys between our check and insert: re-check.
            continue
        if fresh:
            customer_ids = sorted({str(event.customer_id) for event in fresh})

            def notify(ids: list[str] = customer_ids) -> None:
                customer_activity.send(sender=Event, customer_ids=ids)

            on_commit(notify)
        return len(fresh), len(events) - len(fresh)
    raise IntegrityError("events kept colliding with concurrent writers")


def events_ingest(*, events: list[Any], user: Any) -> IngestResult:
    """Store the valid events of a batch (at most MAX_BATCH); report each invalid one by index."""
    if not isinstance(events, list):
        raise ValidationError(_("Send a JSON list of events (or an object with an “events” list)."))
    if len(events) > MAX_BATCH:
        raise ValidationError(
            _("A batch holds at most %(max)s events; this one has %(n)s."),
            params={"max": MAX_BATCH, "n": len(events)},
        )
    valid, errors = _validate(events, user)
    stored, duplicates = _store([event for _index, event in valid])
    return IngestResult(stored=stored, duplicates=duplicates, errors=errors)


def _csv_item(row: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {key: (row.get(key) or "").strip() for key in CSV_COLUMNS}
    raw_properties = (row.get("properties") or "").strip()
    if raw_properties:
        try:
            item["properties"] = json.loads(raw_properties)
        except json.JSONDecodeError:
            item["properties"] = "not json"
    # A search query may come in its own column, as spreadsheets make JSON awkward.
    if (row.get("query") or "").strip():
        parsed = item.get("properties")
        properties: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        item["properties"] = {**properties, "query": row["query"].strip()}
    return item


def events_import_csv(*, file: Any, user: Any) -> IngestResult:
    """Import a CSV of events: every row is checked first; any bad row means nothing is written.

    Columns: customer_id or customer_external_id, event_type, occurred_at, channel, idempotency_key,
    properties (JSON object) and/or query.
    """
    raw = file.read()
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    reader = csv.DictReader(io.StringIO(text))
    missing = {"event_type", "occurred_at"} - set(reader.fieldnames or [])
    if missing or not ({"customer_id", "customer_external_id"} & set(reader.fieldnames or [])):
        raise ValidationError(
            _("The CSV needs the columns customer_id (or customer_external_id), event_type and occurred_at.")
        )
    items = []
    for row in reader:
        items.append(_csv_item(row))
        if len(items) > MAX_CSV_ROWS:
            raise ValidationError(_("At most %(max)s rows per file."), params={"max": MAX_CSV_ROWS})
    if not items:
        raise ValidationError(_("The CSV has no rows."))
    valid, errors = _validate(items, user)
    if errors:
        messages = []
        for error in errors[:50]:
            # Row 1 is the header, so data rows start at 2 as in a spreadsheet.
            details = "; ".join(f"{name}: {text}" for name, text in error["errors"].items())
            messages.append(_("Row %(row)s: %(details)s") % {"row": error["index"] + 2, "details": details})
        if len(errors) > 50:
            messages.append(_("… and %(n)s more rows with errors.") % {"n": len(errors) - 50})
        raise ValidationError(messages)
    with atomic():
        stored, duplicates = _store([event for _index, event in valid])
    return IngestResult(stored=stored, duplicates=duplicates)
