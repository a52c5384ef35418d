"""Real mail servers on 127.0.0.1: SMTP for the email-out tests (aiosmtpd, Django's SMTP backend on it) and
IMAP for the email-in tests (Debian's Dovecot, ``sessions_log/tests/dovecot.py``)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from crm_site.testing import need_service
from sessions_log.tests.dovecot import Dovecot, ImapLogin, dovecot_available, dovecot_start

# Mail to these local parts is refused at RCPT, as a real server refuses an unknown mailbox.
REFUSED_LOCAL_PART = "refused"


@dataclass
class Received:
    """One message as the server got it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """What the test SMTP server took, in order."""

    host: str
    port: int
    messages: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.split("@", 1)[0] == REFUSED_LOCAL_PART:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """Start an SMTP server on a free local port and point Django's SMTP backend at it."""
    port = _free_port()
    mailbox = Mailbox(host="127.0.0.1", port=port)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "CRM <crm@example.test>"
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def dovecot_server() -> Any:
    """One Dovecot for the session (skipped without it unless REQUIRE_SERVICES is set), stopped at the end."""
    need_service("dovecot (Debian's dovecot-imapd)", dovecot_available())
    server: Dovecot = dovecot_start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_mailbox(dovecot_server, monkeypatch) -> ImapLogin:
    """A new, empty mailbox on the test Dovecot; its password in ``CRM_TEST_IMAP_PASSWORD``."""
    login = dovecot_server.mailbox()
    monkeypatch.setenv("CRM_TEST_IMAP_PASSWORD", login.password)
    return login
