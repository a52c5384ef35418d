"""Email threads: the short code of a thread, the signed reply-to address and the subject token that carry it.

A reply finds its thread by In-Reply-To/References first (``Interaction.message_id``). Providers that
rewrite Message-ID or drop References still deliver the reply to the address it was sent to, so the CRM
puts a signed one on every mail it sends (``CRM_REPLY_ADDRESS`` with plus addressing:
``crm+<code>.<signature>@example.com``); the last fallback is the code in the subject, ``[CRM-<code>]``.
The signature is ``django.core.signing.Signer``'s, compared without regard to case (mail systems may
lowercase an address) and shortened to fit the 64 characters of a local part: ~110 bits stay.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare

# Lowercase letters and digits without the look-alikes (0/o, 1/l/i): survives case folding and retyping.
TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TOKEN_LENGTH = 10
SIGNATURE_LENGTH = 22
SIGNING_SALT = "sessions_log.reply-address"
SUBJECT_TOKEN = re.compile(r"\s*\[CRM-([a-z0-9]{6,16})\]", re.IGNORECASE)


def thread_token_new() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def _signature(token: str) -> str:
    return signing.Signer(salt=SIGNING_SALT, algorithm="sha256").signature(token)[:SIGNATURE_LENGTH]


def _reply_base() -> tuple[str, str] | None:
    """(local part, domain) of ``CRM_REPLY_ADDRESS``, None when it is not configured."""
    address = (getattr(settings, "CRM_REPLY_ADDRESS", "") or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return None
    return local.partition("+")[0], domain


def reply_address(token: str) -> str:
    """The signed address replies to this thread go to ("" when ``CRM_REPLY_ADDRESS`` is not set)."""
    base = _reply_base()
    if base is None or not token:
        return ""
    local, domain = base
    return f"{local}+{token}.{_signature(token).lower()}@{domain}"


def token_from_address(address: str) -> str:
    """The thread code of a signed reply address of ours; "" for any other address or a bad signature."""
    base = _reply_base()
    local, at, domain = (address or "").strip().rpartition("@")
    if base is None or not at or domain.lower() != base[1].lower():
        return ""
    head, plus, tag = local.partition("+")
    if not plus or head.lower() != base[0].lower():
        return ""
    token, dot, signature = tag.rpartition(".")
    token = token.lower()
    if not dot or not token or any(ch not in TOKEN_ALPHABET for ch in token):
        return ""
    if not constant_time_compare(signature.lower(), _signature(token).lower()):
        return ""
    return token


def subject_with_token(subject: str, token: str) -> str:
    """The subject with ``[CRM-<code>]`` at its end (once, whatever a reply chain added before)."""
    if not token:
        return subject
    bare = SUBJECT_TOKEN.sub("", subject).rstrip()
    return f"{bare} [CRM-{token}]"


def token_from_subject(subject: str) -> str:
    match = SUBJECT_TOKEN.search(subject or "")
    return match.group(1).lower() if match else ""


def subject_without_token(subject: str) -> str:
    return SUBJECT_TOKEN.sub("", subject or "").strip()
