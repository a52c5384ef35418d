"""Calls and chats pushed by telephony and chat systems (the API), stored in bulk, once per caller's id.

Each record is matched to a customer the API token's user may see (a call by its number, a chat by the
customer's external id, phone or email, through the customers' normalised contact methods) and becomes an
``Interaction``; a record nobody visible matches is parked in the unmatched inbox (``UnmatchedItem``,
received by the token's user), so a number of a customer the user may not see looks exactly like an
unknown one. A record with an ``external_id`` is stored once per token: sent again (or twice in one
batch) it is reported as a duplicate of what was stored. A batch is stored whole or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.bulk import build_instances, field_defaults
from crm_site.db import atomic
from crm_site.models import ApiToken
from customers.selectors import customer_ids_by_contact, customer_ids_by_external_id, visible_customer_ids
from sessions_log.models import MAX_DURATION_SECONDS, ExternalReference, Interaction, UnmatchedItem
from sessions_log.services import interaction_log

MAX_CALL_BATCH = 500
MAX_CHAT_BATCH = 100
MAX_CHAT_MESSAGES = 2000
# Before 1900 is a typo, not a call (the events API's bound too).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_ATTEMPTS = 3


class RecordsInvalid(ValidationError):
    """Records of a batch that cannot be stored (an unknown agent...): index -> field -> messages."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]) -> None:
        super().__init__(_("Some records are invalid."))
        self.errors = errors


@dataclass(frozen=True)
class Receipt:
    """What became of one record: stored now ("created") or before ("duplicate"), as what."""

    index: int
    status: str
    external_id: str
    interaction: uuid.UUID | None
    unmatched: uuid.UUID | None

    @property
    def matched(self) -> bool:
        return self.interaction is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "status": self.status,
            "external_id": self.external_id,
            "matched": self.matched,
            "interaction": str(self.interaction) if self.interaction else None,
            "unmatched": str(self.unmatched) if self.unmatched else None,
        }


def staff_by_name(names: Iterable[str]) -> tuple[dict[str, Any], set[str]]:
    """(name -> active user whose username, or else email address, it is; the names that are ambiguous).

    One query for the whole batch. An email address two users share names nobody (ambiguous).
    """
    wanted = {name for name in names if name}
    if not wanted:
        return {}, set()
    condition = Q(username__in=wanted)
    for name in {name.lower() for name in wanted if "@" in name}:
        condition |= Q(email__iexact=name)  # addresses are stored as typed; a batch names a few agents
    users = list(get_user_model().objects.filter(condition, is_active=True))
    by_username = {user.get_username(): user for user in users}
    by_email: dict[str, list[Any]] = {}
    for user in users:
        if user.email:
            by_email.setdefault(user.email.lower(), []).append(user)
    found: dict[str, Any] = {}
    ambiguous: set[str] = set()
    for name in wanted:
        if name in by_username:
            found[name] = by_username[name]
        elif len(by_email.get(name.lower(), [])) == 1:
            found[name] = by_email[name.lower()][0]
        elif len(by_email.get(name.lower(), [])) > 1:
            ambiguous.add(name)
    return found, ambiguous


def _agents(records: list[dict[str, Any]], errors: dict[int, dict[str, list[str]]]) -> dict[str, Any]:
    found, ambiguous = staff_by_name(record.get("agent", "") for record in records)
    for index, record in enumerate(records):
        name = record.get("agent", "")
        if name and name not in found:
            message = (
                _("Several staff members have this email address; give the username.")
                if name in ambiguous
                else _("No active staff member has this username or email address.")
            )
            errors.setdefault(index, {})["agent"] = [message]
    return found


def check_moment(value: datetime) -> datetime:
    """``value`` in UTC if a contact can have happened then (1900 up to a day ahead), else ValidationError."""
    if value < EARLIEST:
        raise ValidationError(_("This lies before %(date)s.") % {"date": EARLIEST.date().isoformat()})
    if value > timezone.now() + timedelta(days=1):
        raise ValidationError(_("An interaction cannot be logged more than a day ahead."))
    return value.astimezone(UTC)


def _known(token: ApiToken, kind: str, external_ids: list[str]) -> dict[str, tuple[Any, Any]]:
    """external id -> (interaction id, unmatched id) of what this token already stored under it."""
    found: dict[str, tuple[Any, Any]] = {}
    for start in range(0, len(external_ids), 1000):
        found.update(
            (external_id, (interaction_id, unmatched_id))
            for external_id, interaction_id, unmatched_id in ExternalReference.objects.filter(
                token=token, kind=kind, external_id__in=external_ids[start : start + 1000]
            ).values_list("external_id", "interaction_id", "unmatched_id")
        )
    return found


def _store(
    *,
    token: ApiToken,
    kind: str,
    records: list[dict[str, Any]],
    customers: list[Any],
    as_interaction: Callable[[dict[str, Any], Any], dict[str, Any]],
    as_unmatched: Callable[[dict[str, Any]], dict[str, Any]],
) -> list[Receipt]:
    """Store each record not stored before (by external id) as an interaction of ``customers[i]``, or
    unmatched when that is None; one transaction, bulk inserts. Concurrent senders of the same ids: the
    unique (token, kind, external_id) makes one of them fail and re-check, then report duplicates."""
    interaction_defaults = field_defaults(Interaction)
    unmatched_defaults = field_defaults(UnmatchedItem)
    reference_defaults = field_defaults(ExternalReference)
    ids = list(dict.fromkeys(r["external_id"] for r in records if r.get("external_id")))
    for _attempt in range(_ATTEMPTS):
        known = _known(token, kind, ids)
        receipts: list[Receipt] = []
        interactions: list[dict[str, Any]] = []
        unmatched: list[dict[str, Any]] = []
        references: list[dict[str, Any]] = []
        for index, (record, customer_id) in enumerate(zip(records, customers, strict=True)):
            external_id = record.get("external_id", "")
            if external_id in known:
                interaction_id, unmatched_id = known[external_id]
                receipts.append(Receipt(index, "duplicate", external_id, interaction_id, unmatched_id))
                continue
            row_id = uuid.uuid4()
            interaction_id = unmatched_id = None
            if customer_id is not None:
                interactions.append({"id": row_id, **as_interaction(record, customer_id)})
                interaction_id = row_id
            else:
                unmatched.append({"id": row_id, "received_by_id": token.user_id, **as_unmatched(record)})
                unmatched_id = row_id
            if external_id:
                known[external_id] = (interaction_id, unmatched_id)
                references.append(
                    {
                        "id": uuid.uuid4(),
                        "token_id": token.pk,
                        "kind": kind,
                        "external_id": external_id,
                        "interaction_id": interaction_id,
                        "unmatched_id": unmatched_id,
                    }
                )
            receipts.append(Receipt(index, "created", external_id, interaction_id, unmatched_id))
        try:
            with atomic():
                # Every value was checked by the serializer and above: no full_clean per row.
                Interaction.objects.bulk_create(
                    build_instances(Interaction, interaction_defaults, interactions)
                )
                UnmatchedItem.objects.bulk_create(
                    build_instances(UnmatchedItem, unmatched_defaults, unmatched)
                )
                ExternalReference.objects.bulk_create(
                    build_instances(ExternalReference, reference_defaults, references)
                )
        except IntegrityError:
            continue  # a concurrent batch stored some of these ids between our check and insert
        return receipts
    raise IntegrityError("records kept colliding with concurrent senders of the same ids")


def _common(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "direction": record.get("direction") or Interaction.Direction.INBOUND,
        "occurred_at": record["occurred_at"],
        "duration_seconds": record.get("duration_seconds"),
        "outcome": record.get("outcome", ""),
        "subject": record.get("subject", ""),
        "body": record.get("notes", ""),
        "recording_url": record.get("recording_url", ""),
        "transcript": record.get("messages", []),
    }


def calls_ingest(*, token: ApiToken, calls: list[dict[str, Any]]) -> list[Receipt]:
    """Store call records (checked by ``sessions_log.api.serializers.CallSerializer``); one receipt each.

    Raises ``RecordsInvalid`` (nothing stored) when an agent names no staff member.
    """
    if len(calls) > MAX_CALL_BATCH:
        raise ValidationError(_("A batch holds at most %(max)s calls."), params={"max": MAX_CALL_BATCH})
    errors: dict[int, dict[str, list[str]]] = {}
    agents = _agents(calls, errors)
    if errors:
        raise RecordsInvalid(errors)
    user = token.user
    by_number = customer_ids_by_contact(user=user, kind="phone", values=[call["number"] for call in calls])

    def as_interaction(call: dict[str, Any], customer_id: Any) -> dict[str, Any]:
        staff = agents.get(call.get("agent", ""), user)
        return {
            **_common(call),
            "customer_id": customer_id,
            "channel": Interaction.Channel.CALL,
            "staff_id": staff.pk,
            "counterpart": call["number"],
        }

    def as_unmatched(call: dict[str, Any]) -> dict[str, Any]:
        return {**_common(call), "channel": Interaction.Channel.CALL, "counterpart": call["number"]}

    return _store(
        token=token,
        kind=ExternalReference.Kind.CALL,
        records=calls,
        customers=[by_number.get(call["number"]) for call in calls],
        as_interaction=as_interaction,
        as_unmatched=as_unmatched,
    )


def chat_duration(messages: list[dict[str, Any]]) -> int | None:
    """Seconds from the first message to the last (None beyond a working day: not one conversation)."""
    if len(messages) < 2:
        return None
    first = datetime.fromisoformat(messages[0]["at"])
    last = datetime.fromisoformat(messages[-1]["at"])
    seconds = int((last - first).total_seconds())
    return seconds if 0 <= seconds <= MAX_DURATION_SECONDS else None


def chats_ingest(*, token: ApiToken, chats: list[dict[str, Any]]) -> list[Receipt]:
    """Store chat transcripts (checked by ``ChatSerializer``: messages oldest first, times as ISO text).

    The customer is the visible one with the chat's ``customer_external_id``, else its ``phone``, else its
    ``email``; none of those visible: the chat waits in the unmatched inbox with the phone or address.
    """
    if len(chats) > MAX_CHAT_BATCH:
        raise ValidationError(_("A batch holds at most %(max)s chats."), params={"max": MAX_CHAT_BATCH})
    errors: dict[int, dict[str, list[str]]] = {}
    agents = _agents(chats, errors)
    if errors:
        raise RecordsInvalid(errors)
    user = token.user
    external = customer_ids_by_external_id(
        c["customer_external_id"] for c in chats if c.get("customer_external_id")
    )
    visible = visible_customer_ids(user=user, pks=external.values())
    by_external = {key: pk for key, pk in external.items() if pk in visible}
    by_phone = customer_ids_by_contact(user=user, kind="phone", values=[c.get("phone", "") for c in chats])
    by_email = customer_ids_by_contact(user=user, kind="email", values=[c.get("email", "") for c in chats])

    def customer_of(chat: dict[str, Any]) -> Any:
        return (
            by_external.get(chat.get("customer_external_id", ""))
            or by_phone.get(chat.get("phone", ""))
            or by_email.get(chat.get("email", ""))
        )

    def fields(chat: dict[str, Any]) -> dict[str, Any]:
        return {
            **_common(chat),
            "channel": Interaction.Channel.CHAT,
            "counterpart": chat.get("phone") or chat.get("email") or chat.get("customer_external_id", ""),
            "duration_seconds": chat_duration(chat["messages"]),
        }

    def as_interaction(chat: dict[str, Any], customer_id: Any) -> dict[str, Any]:
        staff = agents.get(chat.get("agent", ""), user)
        return {**fields(chat), "customer_id": customer_id, "staff_id": staff.pk}

    def as_unmatched(chat: dict[str, Any]) -> dict[str, Any]:
        return {**fields(chat), "counterpart_name": chat.get("name", "")}

    return _store(
        token=token,
        kind=ExternalReference.Kind.CHAT,
        records=chats,
        customers=[customer_of(chat) for chat in chats],
        as_interaction=as_interaction,
        as_unmatched=as_unmatched,
    )


def interaction_record(
    *, token: ApiToken, customer: Any, staff: Any, external_id: str = "", **fields: Any
) -> Receipt:
    """Log one interaction with a (checked) customer through ``interaction_log``, once per external id."""
    for _attempt in range(_ATTEMPTS):
        if external_id:
            known = _known(token, ExternalReference.Kind.INTERACTION, [external_id])
            if external_id in known:
                interaction_id, unmatched_id = known[external_id]
                return Receipt(0, "duplicate", external_id, interaction_id, unmatched_id)
        try:
            with atomic():
                interaction, _follow_up = interaction_log(customer=customer, staff=staff, **fields)
                if external_id:
                    ExternalReference(
                        token=token,
                        kind=ExternalReference.Kind.INTERACTION,
                        external_id=external_id,
                        interaction=interaction,
                    ).save()
        except IntegrityError:
            continue  # a concurrent twin stored the same id first: report it as the duplicate
        return Receipt(0, "created", external_id, interaction.pk, None)
    raise IntegrityError("the interaction kept colliding with concurrent senders of the same id")
