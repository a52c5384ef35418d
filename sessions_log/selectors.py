"""Reads of the sessions log, each narrowed to what the user may see (``visible_to``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from crm_site.timeline import Cursor, TimelineEntry, before_q
from crm_site.visibility import VIEW, Action, visible_object_or_404
from sessions_log.models import CannedReply, FollowUp, Interaction

RECENT = 20


def interaction_get(*, user: Any, pk: Any, action: Action = VIEW) -> Interaction:
    return visible_object_or_404(
        Interaction.objects.select_related("customer", "staff"), user, action=action, pk=pk
    )


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
        .order_by("-occurred_at", "-id")[:limit]
    )


def customer_interactions(*, customer: Any, user: Any, limit: int = 5) -> list[Interaction]:
    """The latest interactions of a checked customer (its panel)."""
    return list(
        Interaction.objects.visible_to(user, within=customer)
        .select_related("staff")
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


def follow_up_agenda(*, user: Any, everyone: bool = False, now: datetime | None = None) -> FollowUpAgenda:
    """The user's open follow-ups (``everyone``: all the user may see, a manager's team view) split into
    overdue, today and upcoming.

    Per part, the user's candidates through the (assignee, status, due_at) index and the rule on those;
    the day is the server time zone's.
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
    if everyone:
        every = FollowUp.objects.visible_to(user).open().select_related("customer", "assignee")
        found = {
            name: list(every.filter(**when).order_by("due_at")[:AGENDA_LIMIT]) for name, when in parts.items()
        }
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
        .order_by("-occurred_at", "-id")[:limit]
    )
    entries = []
    for row in rows:
        who = row.staff.get_full_name() or row.staff.get_username() if row.staff else ""
        detail = " · ".join(
            part
            for part in (row.get_direction_display(), row.get_outcome_display() if row.outcome else "", who)
            if part
        )
        entries.append(
            TimelineEntry(
                when=row.occurred_at,
                kind="interaction",
                key=str(row.pk),
                title=f"{row.get_channel_display()}: {row.subject}"
                if row.subject
                else str(row.get_channel_display()),
                detail=detail,
                url=row.get_absolute_url(),
                icon=CHANNEL_ICONS.get(row.channel, "bi-chat"),
            )
        )
    return entries


def canned_replies(*, language: str = "") -> list[CannedReply]:
    """The active canned replies, those in ``language`` (the page's) first."""
    replies = list(CannedReply.objects.filter(is_active=True).order_by("language", "name"))
    return sorted(replies, key=lambda reply: reply.language != language)
