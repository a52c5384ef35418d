"""Reads of the sessions log, each narrowed to what the user may see (``visible_to``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import islice
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from crm_site.db import bulk_reads, related_rows
from crm_site.paging import KeysetPage, keyset_page
from crm_site.timeline import Cursor, TimelineEntry, before_q, choice_labels
from crm_site.visibility import VIEW, Action, sees_everything, user_groups, visible_object_or_404
from sessions_log.models import Attachment, CannedReply, FollowUp, Interaction

RECENT = 20


def interaction_get(*, user: Any, pk: Any, action: Action = VIEW) -> Interaction:
    return visible_object_or_404(
        Interaction.objects.select_related("customer", "staff"), user, action=action, pk=pk
    )


def attachment_get(*, user: Any, pk: Any, action: Action = VIEW) -> Attachment:
    """A file the user may see (with its interaction, or unmatched item), else Http404."""
    return visible_object_or_404(
        Attachment.objects.select_related("interaction__customer"), user, action=action, pk=pk
    )


def interaction_attachments(*, interaction: Interaction, user: Any) -> list[Attachment]:
    """The files of a checked interaction, oldest first."""
    return list(Attachment.objects.visible_to(user, within=interaction).order_by("created_at", "id"))


def follow_up_get(*, user: Any, pk: Any, action: Action = VIEW) -> FollowUp:
    return visible_object_or_404(FollowUp.objects.select_related("customer"), user, action=action, pk=pk)


def interactions_recent(*, user: Any, limit: int = RECENT) -> list[Interaction]:
    """The interactions the user logged of customers they (still) see, newest first.

    The user's own newest rows first (the (staff, occurred_at) index), then the visibility rule on
    just those candidates (``visible_among``): the plain rule would scan every customer the user may see.
    """
    mine = Interaction.objects.filter(staff=user).order_by("-occurred_at", "-id")
    candidates = list(mine.values_list("pk", flat=True)[: limit * 2])
    return list(
        Interaction.objects.visible_among(user, candidates)
        .select_related("customer", "staff")
        .prefetch_related("attachments")  # a reverse foreign key: one query for the page's rows
        .order_by("-occurred_at", "-id")[:limit]
    )


def customer_interactions(*, customer: Any, user: Any, limit: int = 5) -> list[Interaction]:
    """The latest interactions of a checked customer (its panel)."""
    return list(
        Interaction.objects.visible_to(user, within=customer)
        .select_related("staff")
        .prefetch_related("attachments")
        .order_by("-occurred_at", "-id")[:limit]
    )


def customer_open_follow_ups(*, customer: Any, user: Any, limit: int = 5) -> list[FollowUp]:
    return list(
        FollowUp.objects.visible_to(user, within=customer)
        .open()
        .select_related("assignee")
        .order_by("due_at")[:limit]
    )


@dataclass(frozen=True)
class FollowUpAgenda:
    overdue: list[FollowUp]
    today: list[FollowUp]
    upcoming: list[FollowUp]


AGENDA_LIMIT = 50


def team_member_ids(*, manager: Any) -> list[Any] | None:
    """The staff of the manager's teams, the manager left out (None: the whole staff's).

    A team is a plain auth group that is not a role (``crm_site.roles``); a manager in no team oversees
    everyone, as the dashboard's "team" does. Members who left (inactive) stay in: their open follow-ups
    are the ones a manager has to hand on.
    """
    from django.contrib.auth import get_user_model

    from crm_site.roles import ROLE_PERMISSIONS

    teams = [pk for pk, name in user_groups(manager) if name not in ROLE_PERMISSIONS]
    if not teams:
        return None
    members = get_user_model().objects.filter(groups__in=teams).exclude(pk=manager.pk)
    return list(dict.fromkeys(members.values_list("pk", flat=True)))


def follow_up_agenda(*, user: Any, team: bool = False, now: datetime | None = None) -> FollowUpAgenda:
    """The user's open follow-ups split into overdue, today and upcoming; the day is the server time
    zone's.

    ``team``: a manager's team view, the open follow-ups of the others on their teams
    (``team_member_ids``; a manager in no team: everyone else's and the unassigned ones). Empty for a
    user who is not a manager, whatever they ask for.
    Per part, the user's candidates through the (assignee, status, due_at) index and the rule on those.
    """
    now = now or timezone.now()
    start_of_tomorrow = timezone.make_aware(
        datetime.combine(timezone.localdate(now) + timedelta(days=1), time.min)
    )
    parts = {
        "overdue": {"due_at__lt": now},
        "today": {"due_at__gte": now, "due_at__lt": start_of_tomorrow},
        "upcoming": {"due_at__gte": start_of_tomorrow},
    }
    if team:
        if not sees_everything(user):
            return FollowUpAgenda(overdue=[], today=[], upcoming=[])
        theirs = FollowUp.objects.visible_to(user).open().exclude(assignee=user)
        members = team_member_ids(manager=user)
        if members is not None:
            theirs = theirs.filter(assignee__in=members)
        theirs = theirs.select_related("customer", "assignee").order_by("due_at")
        found = {name: list(theirs.filter(**when)[:AGENDA_LIMIT]) for name, when in parts.items()}
        return FollowUpAgenda(**found)
    # The user's own open rows of each part through the (assignee, status, due_at) index, then the
    # visibility rule once on all those candidates (the plain rule would scan every customer the user
    # may see): a fixed number of queries whichever parts are empty.
    mine = FollowUp.objects.filter(assignee=user).open()
    candidates: list[Any] = []
    for when in parts.values():
        candidates += mine.filter(**when).order_by("due_at").values_list("pk", flat=True)[: AGENDA_LIMIT * 2]
    rows = list(
        FollowUp.objects.visible_among(user, candidates)
        .select_related("customer", "assignee")
        .order_by("due_at")
    )
    return FollowUpAgenda(
        overdue=[row for row in rows if row.due_at < now][:AGENDA_LIMIT],
        today=[row for row in rows if now <= row.due_at < start_of_tomorrow][:AGENDA_LIMIT],
        upcoming=[row for row in rows if row.due_at >= start_of_tomorrow][:AGENDA_LIMIT],
    )


CHANNEL_ICONS: dict[str, str] = {
    Interaction.Channel.CALL: "bi-telephone",
    Interaction.Channel.EMAIL: "bi-envelope",
    Interaction.Channel.CHAT: "bi-chat-dots",
    Interaction.Channel.VISIT: "bi-geo-alt",
    Interaction.Channel.SMS: "bi-phone",
    Interaction.Channel.WECHAT: "bi-wechat",
    Interaction.Channel.MEETING: "bi-people",
    Interaction.Channel.NOTE: "bi-journal-text",
}


def interaction_timeline(
    *, customer: Any, user: Any, cursor: Cursor | None, limit: int
) -> list[TimelineEntry]:
    """The timeline source of interactions: one keyset query on (customer, occurred_at, id)."""
    rows: QuerySet[Interaction] = (
        Interaction.objects.visible_to(user, within=customer)
        .filter(before_q(cursor, kind="interaction", when_field="occurred_at"))
        .select_related("staff")
        .prefetch_related("attachments")
        .order_by("-occurred_at", "-id")[:limit]
    )
    channels, directions, outcomes = (
        choice_labels(Interaction, name) for name in ("channel", "direction", "outcome")
    )
    entries = []
    for row in rows:
        who = row.staff.get_full_name() or row.staff.get_username() if row.staff else ""
        direction = directions.get(row.direction, row.direction)
        outcome = outcomes.get(row.outcome, row.outcome) if row.outcome else ""
        detail = " · ".join(part for part in (direction, outcome, who) if part)
        channel = channels.get(row.channel, row.channel)
        entries.append(
            TimelineEntry(
                when=row.occurred_at,
                kind="interaction",
                key=str(row.pk),
                title=f"{channel}: {row.subject}" if row.subject else channel,
                detail=detail,
                url=row.get_absolute_url(),
                icon=CHANNEL_ICONS.get(row.channel, "bi-chat"),
                attachments=tuple(row.attachments.all()),
            )
        )
    return entries


def canned_replies(*, language: str = "") -> list[CannedReply]:
    """The active canned replies, those in ``language`` (the page's) first."""
    replies = list(CannedReply.objects.filter(is_active=True).order_by("language", "name"))
    return sorted(replies, key=lambda reply: reply.language != language)


FEATURE_ROW_FIELDS = ("customer_id", "channel", "direction", "outcome", "occurred_at")


def interaction_feature_rows(
    *, as_of: datetime | None = None, customer_ids: list[str] | None = None, chunk_size: int = 50_000
) -> Iterator[list[tuple[Any, ...]]]:
    """Every interaction before ``as_of`` (exclusive) as chunks of (customer_id, channel, direction,
    outcome, occurred_at) tuples, customer ids as text: the profile pipeline's contact features.

    For everyone, not per user (a batch job's read; nothing here is shown to anyone). Row by row rather
    than totals per customer: the churn model needs the same features as of several past cutoffs, which
    one read of the rows serves and a GROUP BY per cutoff would not. One streamed query of five narrow
    columns (``bulk_reads``: ids as text, timestamps parsed by the driver) on every backend.
    """
    rows = Interaction.objects.all()
    if as_of is not None:
        rows = rows.filter(occurred_at__lt=as_of)
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=customer_ids)
    with bulk_reads():
        stream = rows.order_by().values_list(*FEATURE_ROW_FIELDS).iterator(chunk_size=chunk_size)
        while chunk := list(islice(stream, chunk_size)):
            yield chunk


def interactions_page(
    *,
    user: Any,
    customer: Any = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> KeysetPage:
    """The interactions ``user`` may see (of a checked ``customer`` only, if given), newest first, keyset
    paged on (occurred_at, id): the API's list. ``since``: those that happened at or after it."""
    rows = (
        Interaction.objects.visible_to(user, within=customer)
        if customer
        else Interaction.objects.visible_to(user)
    )
    if since is not None:
        rows = rows.filter(occurred_at__gte=since)
    return keyset_page(
        related_rows(rows, "staff"),
        field="occurred_at",
        descending=True,
        kind="datetime",
        cursor=cursor,
        size=limit,
    )


THREAD_LIMIT = 200


def interaction_thread(*, interaction: Interaction, user: Any) -> list[Interaction]:
    """The mails of an email's thread that ``user`` may see, oldest first; [] when it has no other mail.

    One query (none for other channels): the root and every reply pointing at it.
    """
    if interaction.channel != Interaction.Channel.EMAIL:
        return []
    root_id = interaction.thread_id or interaction.pk
    rows = list(
        Interaction.objects.visible_to(user)
        .filter(Q(pk=root_id) | Q(thread_id=root_id))
        .select_related("staff")
        .order_by("occurred_at", "id")[:THREAD_LIMIT]
    )
    return rows if len(rows) > 1 else []
