"""Celery tasks of the sessions log: thin, idempotent wrappers around the services."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def email_send(interaction_id: str) -> str:
    """Send one queued email interaction; a second run (redelivery, retry) finds it claimed and skips it."""
    from sessions_log.mail import email_deliver

    return email_deliver(interaction_id=interaction_id)
