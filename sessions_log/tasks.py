"""Celery tasks of the sessions log: thin, idempotent wrappers around the services."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def email_send(interaction_id: str) -> str:
    """Send one queued email interaction; a second run (redelivery, retry) finds it claimed and skips it."""
    from sessions_log.mail import email_deliver

    return email_deliver(interaction_id=interaction_id)


@shared_task(name="sessions_log.follow_up_digest", acks_late=True)
def follow_up_digest_send_task() -> dict:
    """The morning digest (beat entry "Morning follow-up digest"); a second run that day sends nothing."""
    from sessions_log.digest import follow_up_digest_send

    return follow_up_digest_send().as_dict()


@shared_task(name="sessions_log.fetch_mail", acks_late=True)
def mail_fetch_all_task() -> list[dict]:
    """Read every active mailbox (beat entry "Read the mailboxes"). Idempotent: a message read twice is
    stored once, and a mailbox another run is still reading is skipped (its lock)."""
    from sessions_log.mail_in import mail_fetch_all, run_summary

    return [run_summary(run) for run in mail_fetch_all()]
