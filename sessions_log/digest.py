"""The morning follow-up digest: each staff member's overdue and today's follow-ups in one mail a day.

``follow_up_digest_send`` (the beat task ``sessions_log.follow_up_digest``, 07:30 server time by default,
editable in the admin) goes through every active user with an email address who may use My follow-ups.
Each gets one mail listing their own open follow-ups, overdue first, then those due later today (the day of
the server time zone), and, for a manager, the team's overdue ones with who has each
(``selectors.follow_up_agenda``: the visibility rule applies, so a follow-up of a customer the user can
no longer see is left out). Nothing due, no mail.

Once a day per user however often or concurrently the task runs: the ``DigestSent`` row (unique per user
and day) is claimed before sending (``crm_site.db.create_once``), so a second run finds it taken and
skips that user; a send that fails releases the claim, so the next run sends it. One user's failure
(an address the server refuses, a server down) is logged and counted, and the others still get theirs.
A crash between the claim and the send loses that day's digest rather than sending it twice.

There is no per-user language preference yet: the mail is in ``settings.LANGUAGE_CODE``, dates in the
server time zone, both through ``digest_language`` so a preference can be plugged in there.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from crm_site.db import create_once
from crm_site.visibility import sees_everything
from sessions_log.models import DigestSent, FollowUp
from sessions_log.selectors import AGENDA_LIMIT, follow_up_agenda

logger = logging.getLogger(__name__)

PERMISSION = "sessions_log.view_followup"  # the digest points at My follow-ups


@dataclass
class DigestCounts:
    """What one run did: mails sent, users already sent today's, with nothing due, whose send failed."""

    sent: int = 0
    already_sent: int = 0
    nothing_due: int = 0
    failed: int = 0
    failed_users: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "already_sent": self.already_sent,
            "nothing_due": self.nothing_due,
            "failed": self.failed,
            "failed_users": self.failed_users,
        }


@dataclass(frozen=True)
class Digest:
    """One user's digest, before it is claimed and sent."""

    user: Any
    overdue: list[FollowUp]
    today: list[FollowUp]
    team_overdue: list[FollowUp]

    @property
    def items(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.team_overdue)


def digest_language(user: Any) -> str:
    """The language of a user's digest: the site's (users have no language preference stored)."""
    return settings.LANGUAGE_CODE


def digest_recipients() -> list[Any]:
    """Active users with an email address who may open My follow-ups (a handful of queries per user)."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="").order_by("username")
    return [user for user in users if user.has_perm(PERMISSION)]


def digest_build(*, user: Any, now: datetime) -> Digest:
    """What ``user`` gets this morning: their overdue and today's open follow-ups they may still see; a
    manager also the team's overdue ones."""
    mine = follow_up_agenda(user=user, now=now)
    team = follow_up_agenda(user=user, team=True, now=now).overdue if sees_everything(user) else []
    return Digest(user=user, overdue=mine.overdue, today=mine.today, team_overdue=team)


def _site_url(path: str) -> str:
    return f"{settings.CRM_SITE_URL}{path}"


def _line(follow_up: FollowUp, *, with_day: bool, with_assignee: bool) -> dict[str, str]:
    due = timezone.localtime(follow_up.due_at)
    assignee = follow_up.assignee
    return {
        "customer": follow_up.customer.name,
        "customer_url": _site_url(follow_up.customer.get_absolute_url()),
        "title": follow_up.title,
        "due": date_format(due, "SHORT_DATETIME_FORMAT") if with_day else time_format(due, "TIME_FORMAT"),
        "priority": str(follow_up.get_priority_display())
        if follow_up.priority == FollowUp.Priority.HIGH
        else "",
        "assignee": (assignee.get_full_name() or assignee.get_username() if assignee else _("unassigned"))
        if with_assignee
        else "",
    }


def digest_render(*, digest: Digest, day: Any) -> EmailMultiAlternatives:
    """The digest as a mail (plain text and an HTML alternative) in the user's language."""
    user = digest.user
    with translation.override(digest_language(user)), timezone.override(settings.TIME_ZONE):
        sections = [
            (_("Overdue"), [_line(f, with_day=True, with_assignee=False) for f in digest.overdue]),
            (_("Due today"), [_line(f, with_day=False, with_assignee=False) for f in digest.today]),
        ]
        if digest.team_overdue:
            sections.append(
                (
                    _("Your team's overdue follow-ups"),
                    [_line(f, with_day=True, with_assignee=True) for f in digest.team_overdue],
                )
            )
        context = {
            "name": user.get_full_name() or user.get_username(),
            "day": date_format(day, "DATE_FORMAT"),
            "sections": [(title, lines, len(lines) >= AGENDA_LIMIT) for title, lines in sections if lines],
            "limit": AGENDA_LIMIT,
            "list_url": _site_url(reverse("sessions_log:follow-up-list")),
            "team_url": _site_url(reverse("sessions_log:follow-up-team")) if digest.team_overdue else "",
        }
        subject = _("Your follow-ups for %(day)s: %(overdue)s overdue, %(today)s due today") % {
            "day": context["day"],
            "overdue": len(digest.overdue),
            "today": len(digest.today),
        }
        text = render_to_string("sessions_log/email/digest.txt", context)
        html = render_to_string("sessions_log/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
    )
    message.attach_alternative(html, "text/html")
    return message


def digest_claim(*, user: Any, day: Any, items: int) -> DigestSent | None:
    """Today's row for ``user``, or None when another run already has it (the unique constraint)."""
    claim: DigestSent | None = create_once(DigestSent, user=user, day=day, items=items)
    return claim


def follow_up_digest_send(*, now: datetime | None = None) -> DigestCounts:
    """Send this morning's digest to every staff member who has one due and has not had it today."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    counts = DigestCounts()
    for user in digest_recipients():
        if DigestSent.objects.filter(user=user, day=day).exists():
            counts.already_sent += 1
            continue
        digest = digest_build(user=user, now=now)
        if not digest.items:
            counts.nothing_due += 1
            continue
        message = digest_render(digest=digest, day=day)
        claim = digest_claim(user=user, day=day, items=digest.items)
        if claim is None:
            counts.already_sent += 1
            continue
        try:
            message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError, ValueError) as error:
            # OSError: the server is down or unreachable; ValueError: an address Django will not put in a
            # header. The claim goes, so the next run tries again; the other users still get theirs.
            DigestSent.objects.filter(pk=claim.pk).delete()
            logger.warning("Follow-up digest to %s (%s) not sent: %r", user.get_username(), user.email, error)
            counts.failed += 1
            counts.failed_users.append(user.get_username())
            continue
        counts.sent += 1
    logger.info("Follow-up digest for %s: %s", day, counts.as_dict())
    return counts
