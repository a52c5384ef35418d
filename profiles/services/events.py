"""Behaviour event ingestion: a JSON batch from the API or a CSV file, validated row by row."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from crm_site.api import json_depth, reject_json_constant
from crm_site.bulk import build_instances, field_defaults
from crm_site.db import atomic
from crm_site.signals import customers_touched
from crm_site.uploads import DEFAULT_ENCODING, UploadError, decode_upload
from profiles.models import Event

MAX_BATCH = 1000
MAX_CSV_ROWS = 100_000
EVENT_TYPES = set(Event.EventType.values)
# Before 1900 is a typo, not history, and pandas cannot hold dates before 1677 at all.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MAX_PROPERTIES_CHARS = 4000
MAX_PROPERTIES_DEPTH = 5
# The pipeline reads these as non-negative numbers (spend, basket size).
NUMBER_PROPERTIES = ("amount", "quantity", "price")
CHANNEL_MAX = Event._meta.get_field("channel").max_length or 30
KEY_MAX = Event._meta.get_field("idempotency_key").max_length or 100
_CUSTOMER_MODEL = Event._meta.get_field("customer").related_model
EXTERNAL_ID_MAX = _CUSTOMER_MODEL._meta.get_field("external_id").max_length or 100  # type: ignore[union-attr]
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
    """The moment in UTC, or None when it is not an ISO 8601 date and time a datetime can hold."""
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip() and len(value) <= 64:
        text = value.strip()
        try:
            moment = parse_datetime(text.replace(" ", "T", 1) if "T" not in text else text)
        except ValueError:
            return None
        if moment is None:
            return None
    else:
        return None
    # Senders without a zone are taken to mean UTC; everything is stored in UTC.
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 or 9999-12-31T23:59-12:00: outside what UTC can hold
        return None


def _derived_key(customer_id: str, event_type: str, occurred_at: datetime, properties: dict) -> str:
    """A key for senders that give none: the same event delivered twice is still stored once."""
    raw = json.dumps(
        [customer_id, event_type, occurred_at.isoformat(), properties], sort_keys=True, default=str
    )
    return "auto:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _storable(text: str) -> bool:
    """False for text no backend stores: NUL characters (PostgreSQL) and lone surrogates (not UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(item: dict[str, Any], name: str, max_length: int, errors: dict[str, str]) -> str:
    """A string field of the event, stripped ("" when absent); a non-string or overlong one is an error."""
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = _("%(field)s must be a string.") % {"field": name}
        return ""
    if not _storable(value):
        errors[name] = _("%(field)s contains characters that cannot be stored (NUL or invalid Unicode).") % {
            "field": name
        }
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors[name] = _("%(field)s is longer than %(max)s characters.") % {"field": name, "max": max_length}
    return value


def _properties_error(properties: Any, event_type: str) -> str | None:
    """Why these properties cannot be stored or used, or None when they are fine."""
    if not isinstance(properties, dict):
        return _("properties must be a JSON object.")
    if json_depth(properties, limit=MAX_PROPERTIES_DEPTH) > MAX_PROPERTIES_DEPTH:
        return _("properties nest lists and objects too deeply (at most %(max)s levels).") % {
            "max": MAX_PROPERTIES_DEPTH
        }
    stack: list[Any] = [properties]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str) or not _storable(key):
                    return _("properties hold a name that cannot be stored (NUL or invalid Unicode).")
                stack.append(child)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if not _storable(value):
                return _("properties hold text that cannot be stored (NUL or invalid Unicode).")
        elif isinstance(value, float):
            if not math.isfinite(value):
                return _("properties hold a number that is not finite (NaN or Infinity).")
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) >= 2**63:  # MongoDB stores at most 64-bit integers
                return _("properties hold an integer too large to store.")
        elif value is not None and not isinstance(value, bool):
            return _("properties must hold only JSON values.")
    if len(json.dumps(properties, ensure_ascii=False)) > MAX_PROPERTIES_CHARS:
        return _("properties are too large (at most %(max)s characters).") % {
            "max": f"{MAX_PROPERTIES_CHARS:,}"
        }
    for name in NUMBER_PROPERTIES:
        if name in properties and not _non_negative_number(properties[name]):
            return _("properties.%(name)s must be a number of at least 0.") % {"name": name}
    if event_type == Event.EventType.SEARCH:
        query = properties.get("query")
        if not isinstance(query, str) or not query.strip():
            return _("A search event needs its query as a non-empty string in properties.query.")
    return None


def _non_negative_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return False
    if not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and value >= 0
    except OverflowError:  # an int too large for a float
        return False


def _check(item: Any, earliest: datetime, latest: datetime) -> tuple[dict[str, Any], dict[str, str]]:
    """(cleaned fields, errors by field) for one raw event; customer resolution happens later.

    Plain Python checks (no full_clean per event: at 1,000-event batches it was most of the time).
    """
    errors: dict[str, str] = {}
    if not isinstance(item, dict):
        return {}, {"event": _("Each event must be a JSON object.")}
    cleaned: dict[str, Any] = {}
    customer_id = _text(item, "customer_id", 64, errors)
    external_id = _text(item, "customer_external_id", EXTERNAL_ID_MAX, errors)
    if customer_id and "customer_id" not in errors:
        try:
            cleaned["customer_uuid"] = uuid.UUID(customer_id)
        except ValueError:
            errors["customer_id"] = _("“%(value)s” is not a valid customer id.") % {"value": customer_id[:60]}
    elif external_id and "customer_external_id" not in errors:
        cleaned["external_id"] = external_id
    elif not errors:
        errors["customer_id"] = _("Give customer_id or customer_external_id.")
    event_type = item.get("event_type")
    if not isinstance(event_type, str) or event_type.strip() not in EVENT_TYPES:
        shown = event_type.strip()[:40] if isinstance(event_type, str) and _storable(event_type) else "…"
        errors["event_type"] = _("Unknown event type “%(value)s”; use one of %(types)s.") % {
            "value": shown,
            "types": ", ".join(sorted(EVENT_TYPES)),
        }
        event_type = ""
    cleaned["event_type"] = event_type.strip()
    moment = _parse_moment(item.get("occurred_at"))
    if moment is None:
        errors["occurred_at"] = _("occurred_at must be an ISO 8601 date and time.")
    elif moment > latest:
        errors["occurred_at"] = _("occurred_at lies more than a day in the future.")
    elif moment < earliest:
        errors["occurred_at"] = _("occurred_at lies before %(date)s.") % {"date": earliest.date().isoformat()}
    cleaned["occurred_at"] = moment
    properties = item.get("properties")
    if properties is None:
        properties = {}
    problem = (
        _("properties is not valid JSON.")
        if isinstance(properties, _NotJson)
        else _properties_error(properties, cleaned["event_type"])
    )
    if problem is not None:
        errors["properties"] = problem
    cleaned["properties"] = properties if isinstance(properties, dict) else {}
    cleaned["channel"] = _text(item, "channel", CHANNEL_MAX, errors).lower()
    cleaned["idempotency_key"] = _text(item, "idempotency_key", KEY_MAX, errors)
    return cleaned, errors


def _resolve_customers(rows: list[dict[str, Any]], user: Any) -> tuple[dict[uuid.UUID, str], dict[str, str]]:
    """Which of the referenced customers exist and are visible to the sender (two queries)."""
    from customers.selectors import customer_ids_by_external_id, visible_customer_ids

    external = customer_ids_by_external_id(r["external_id"] for r in rows if "external_id" in r)
    wanted = {r["customer_uuid"] for r in rows if "customer_uuid" in r} | set(external.values())
    visible = visible_customer_ids(user=user, pks=wanted)
    return {pk: str(pk) for pk in visible}, {ext: str(pk) for ext, pk in external.items() if pk in visible}


def _validate(items: list[Any], user: Any) -> tuple[list[tuple[int, Event]], list[dict[str, Any]]]:
    latest = timezone.now() + timedelta(days=1)
    checked = [_check(item, EARLIEST, latest) for item in items]
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
                # The same words whether it does not exist or belongs to someone else: no existence oracle.
                row_errors["customer_id"] = _("No such customer (or not one you may write to).")
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
                "sent_by_id": user.pk,
                "received_at": now,
            }
        )
    # Every field was checked above; skipping Model.__init__ halves the cost of a 1,000-event batch.
    valid = list(zip(indexes, build_instances(Event, field_defaults(Event), rows), strict=True))
    return valid, errors


def _store(events: list[Event], user: Any) -> tuple[int, int]:
    """(stored, duplicates): events whose key this sender already used (stored or earlier in the batch).

    Keys are the sender's own namespace: another user's events never make one of these a duplicate.
    """
    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.idempotency_key, event)
    for _attempt in range(3):
        keys = list(unique)
        known: set[str] = set()
        for start in range(0, len(keys), 1000):
            known.update(
                Event.objects.filter(
                    sent_by=user, idempotency_key__in=keys[start : start + 1000]
                ).values_list("idempotency_key", flat=True)
            )
        fresh = [event for key, event in unique.items() if key not in known]
        try:
            with atomic():
                Event.objects.bulk_create(fresh, batch_size=1000)
        except IntegrityError:
            # A concurrent batch stored some of the same keys between our check and insert: re-check.
            continue
        # The events are committed by then: a failing refresh is logged, never the request's 500.
        customers_touched(sender=Event, customer_ids={event.customer_id for event in fresh})
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
    stored, duplicates = _store([event for _index, event in valid], user)
    return IngestResult(stored=stored, duplicates=duplicates, errors=errors)


class _NotJson:
    """The properties cell of a CSV row that did not parse (reported as that row's properties error)."""


def _csv_item(row: dict[str | None, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {key: (row.get(key) or "").strip() for key in CSV_COLUMNS}
    raw_properties = (row.get("properties") or "").strip()
    if raw_properties:
        try:
            item["properties"] = json.loads(raw_properties, parse_constant=reject_json_constant)
        except (ValueError, RecursionError):
            item["properties"] = _NotJson()
    # A search query may come in its own column, as spreadsheets make JSON awkward.
    if (row.get("query") or "").strip():
        parsed = item.get("properties")
        properties: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        item["properties"] = {**properties, "query": row["query"].strip()}
    return item


def _csv_items(file: Any, encoding: str = DEFAULT_ENCODING) -> list[dict[str, Any]]:
    """The rows of an events CSV as raw events; a file that cannot be read is one clear error."""
    # Read at most the limit (an upload has no size cap of its own): a bigger file is refused, not loaded.
    limit_mb = int(getattr(settings, "PROFILES_EVENT_CSV_MAX_MB", 64))
    limit = limit_mb * 2**20
    raw = file.read(limit + 1)
    if len(raw) > limit:
        raise ValidationError(_("The file is too large (at most %(size)s MB)."), params={"size": limit_mb})
    try:
        text = decode_upload(raw, encoding)
    except UploadError as error:
        raise ValidationError(str(error)) from error
    reader = csv.DictReader(io.StringIO(text, newline=""))
    items = []
    try:
        header = reader.fieldnames or []
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise ValidationError(
                _("The CSV names the column(s) %(names)s more than once."),
                params={"names": ", ".join(duplicated)},
            )
        missing = {"event_type", "occurred_at"} - set(header)
        if missing or not ({"customer_id", "customer_external_id"} & set(header)):
            raise ValidationError(
                _(
                    "The CSV needs the columns customer_id (or customer_external_id), event_type and occurred_at."  # noqa: E501
                )
            )
        for row in reader:
            items.append(_csv_item(row))
            if len(items) > MAX_CSV_ROWS:
                raise ValidationError(_("At most %(max)s rows per file."), params={"max": MAX_CSV_ROWS})
    except csv.Error as error:
        # e.g. a cell over the csv module's field size limit; line_num counts the lines read without error.
        raise ValidationError(
            _("Line %(line)s cannot be read as CSV (%(error)s)."),
            params={"line": reader.line_num + 1, "error": error},
        ) from error
    return items


def events_import_csv(*, file: Any, user: Any, encoding: str = DEFAULT_ENCODING) -> IngestResult:
    """Import a CSV of events: every row is checked first; any bad row means nothing is written.

    Columns: customer_id or customer_external_id, event_type, occurred_at, channel, idempotency_key,
    properties (JSON object) and/or query. Only customers ``user`` can see are written to.
    """
    items = _csv_items(file, encoding)
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
        stored, duplicates = _store([event for _index, event in valid], user)
    return IngestResult(stored=stored, duplicates=duplicates)
