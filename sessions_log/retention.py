"""Retention of what the sessions log keeps about conversations (crm_site.retention).

- ``email_bodies``: an email's text and quoted text (on interactions and unmatched mail) are emptied; its
  subject, date, parties and threading headers stay, so the timeline still shows that it happened.
- ``attachments``: files older than their retention are deleted from storage with their rows (the file
  goes once the deletion commits: ``sessions_log.attachments``).
- ``call_recordings``: a call's or chat's recording link and transcript are emptied.

Each purge handles one batch: one SELECT of ids, one UPDATE or DELETE of exactly those.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm_site.retention import RetentionRule, batch_ids, retention_rules
from sessions_log import attachments as _attachments  # noqa: F401  (connects the file-removing receiver)
from sessions_log.models import Attachment, Interaction, UnmatchedItem

EMAIL = Interaction.Channel.EMAIL
HAS_TEXT = ~Q(body="") | ~Q(quoted_text="")
HAS_RECORDING = ~Q(recording_url="") | ~Q(transcript=[])


def email_bodies_purge(*, cutoff: datetime, batch_size: int) -> int:
    """Empty the text of at most ``batch_size`` emails older than ``cutoff`` (interactions first)."""
    ids = batch_ids(Interaction.objects.filter(HAS_TEXT, channel=EMAIL, occurred_at__lt=cutoff), batch_size)
    if ids:
        return Interaction.objects.filter(pk__in=ids).update(body="", quoted_text="")
    ids = batch_ids(UnmatchedItem.objects.filter(HAS_TEXT, channel=EMAIL, occurred_at__lt=cutoff), batch_size)
    if ids:
        return UnmatchedItem.objects.filter(pk__in=ids).update(body="", quoted_text="")
    return 0


def attachments_purge(*, cutoff: datetime, batch_size: int) -> int:
    """Delete at most ``batch_size`` attachments stored before ``cutoff``, rows and files."""
    ids = batch_ids(Attachment.objects.filter(created_at__lt=cutoff), batch_size)
    if ids:
        # Not a fast delete (the post_delete receiver removes each file): one SELECT and one DELETE.
        Attachment.objects.filter(pk__in=ids).delete()
    return len(ids)


def call_recordings_purge(*, cutoff: datetime, batch_size: int) -> int:
    """Empty the recording link and transcript of at most ``batch_size`` records older than ``cutoff``."""
    ids = batch_ids(Interaction.objects.filter(HAS_RECORDING, occurred_at__lt=cutoff), batch_size)
    if ids:
        return Interaction.objects.filter(pk__in=ids).update(recording_url="", transcript=[])
    ids = batch_ids(UnmatchedItem.objects.filter(HAS_RECORDING, occurred_at__lt=cutoff), batch_size)
    if ids:
        return UnmatchedItem.objects.filter(pk__in=ids).update(recording_url="", transcript=[])
    return 0


retention_rules.register(
    RetentionRule(key="email_bodies", label=_("Email bodies"), purge=email_bodies_purge, action=_("emptied"))
)
retention_rules.register(
    RetentionRule(key="attachments", label=_("Attachments"), purge=attachments_purge, action=_("deleted"))
)
retention_rules.register(
    RetentionRule(
        key="call_recordings",
        label=_("Call recording links and transcripts"),
        purge=call_recordings_purge,
        action=_("emptied"),
    )
)
