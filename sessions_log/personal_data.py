"""The interactions app's part of a data-subject request (``crm_site.personal_data``).

Erasure keeps each interaction's channel, direction, date, duration, outcome and staff (the counts the
dashboards and the profile pipeline read) and empties everything said or written: subject, notes, the
number or address, the recording link, the transcript, quoted mail text, the delivery error. The
attachments are deleted with their files in storage; the follow-ups are deleted; an unmatched item that
was attached to one of the interactions loses its text and its files too.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy

from crm_site.personal_data import PersonalDataHandler, Rows, fields_of, personal_data
from customers.import_scrub import delete_file_on_commit
from sessions_log.models import Attachment, FollowUp, Interaction, UnmatchedItem

INTERACTION_FIELDS = (
    "channel",
    "direction",
    "subject",
    "body",
    "occurred_at",
    "duration_seconds",
    "outcome",
    "place",
    "email_to",
    "counterpart",
    "recording_url",
    "transcript",
    "quoted_text",
)
INTERACTION_TEXT = {
    "subject": "",
    "body": "",
    "email_to": "",
    "counterpart": "",
    "recording_url": "",
    "quoted_text": "",
    "delivery_error": "",
    "place": "",
}
UNMATCHED_TEXT = {
    "counterpart": "",
    "counterpart_name": "",
    "subject": "",
    "body": "",
    "quoted_text": "",
    "recording_url": "",
}
FOLLOW_UP_FIELDS = ("title", "due_at", "priority", "status", "done_at")


def _not_empty(names: Any) -> Q:
    condition = Q()
    for name in names:
        condition |= ~Q(**{name: ""})
    return condition


def _inbox_items(customer_id: Any) -> list[UnmatchedItem]:
    """Mail, calls and chats from one of the customer's addresses or numbers still waiting in the inbox."""
    from customers.selectors.privacy import contact_values_of

    values = contact_values_of(customer_id=customer_id)
    if not values:
        return []
    return list(UnmatchedItem.objects.filter(interaction=None, counterpart__in=sorted(values)))


def export_interactions(customer_id: Any) -> Rows:
    interactions = list(Interaction.objects.filter(customer_id=customer_id).order_by("occurred_at"))
    ids = [row.pk for row in interactions]
    return {
        "inbox_items": [
            {
                "channel": row.channel,
                "counterpart": row.counterpart,
                "name_given": row.counterpart_name,
                "subject": row.subject,
                "body": row.body,
                "occurred_at": row.occurred_at,
            }
            for row in _inbox_items(customer_id)
        ],  # fmt: skip
        "interactions": [{"id": row.pk, **fields_of(row, INTERACTION_FIELDS)} for row in interactions],
        "attachments": [
            {"interaction": row.interaction_id, "name": row.name, "type": row.content_type, "size": row.size}
            for row in Attachment.objects.filter(interaction_id__in=ids).order_by("created_at")
        ],
        "follow_ups": [
            fields_of(row, FOLLOW_UP_FIELDS)
            for row in FollowUp.objects.filter(customer_id=customer_id).order_by("due_at")
        ],
    }


def _delete_attachments(attachments: list[Attachment]) -> int:
    for attachment in attachments:
        delete_file_on_commit(attachment.file)  # after the erasure commits: a rolled-back one keeps it
    return Attachment.objects.filter(pk__in=[row.pk for row in attachments]).delete()[0]


def erase_interactions(customer_id: Any, *, request: Any) -> dict[str, int]:
    ids = list(Interaction.objects.filter(customer_id=customer_id).values_list("pk", flat=True))
    unmatched_ids = list(UnmatchedItem.objects.filter(interaction_id__in=ids).values_list("pk", flat=True))
    attachments = list(
        Attachment.objects.filter(Q(interaction_id__in=ids) | Q(unmatched_id__in=unmatched_ids))
    )
    counts = {"attachments": _delete_attachments(attachments)}
    counts["interactions"] = (
        Interaction.objects.filter(pk__in=ids)
        .filter(_not_empty(INTERACTION_TEXT))
        .update(transcript=[], **INTERACTION_TEXT)
    )
    counts["unmatched_items"] = (
        UnmatchedItem.objects.filter(pk__in=unmatched_ids)
        .filter(_not_empty(UNMATCHED_TEXT))
        .update(transcript=[], **UNMATCHED_TEXT)
    )
    # What still waits in the inbox from the person's own addresses is deleted with its files.
    waiting = [row.pk for row in _inbox_items(customer_id)]
    counts["attachments"] += _delete_attachments(list(Attachment.objects.filter(unmatched_id__in=waiting)))
    counts["inbox_items"] = UnmatchedItem.objects.filter(pk__in=waiting).delete()[0]
    follow_ups = list(FollowUp.objects.filter(customer_id=customer_id).values_list("pk", flat=True))
    # A follow-up may point at an earlier one (``previous``): cut the chain first, then delete them all.
    FollowUp.objects.filter(pk__in=follow_ups).exclude(previous=None).update(previous=None)
    counts["follow_ups"] = FollowUp.objects.filter(pk__in=follow_ups).delete()[0]
    return counts


personal_data.register(
    PersonalDataHandler(
        key="sessions_log",
        label=gettext_lazy("Interactions and follow-ups"),
        export=export_interactions,
        erase=erase_interactions,
        order=300,
    )
)
