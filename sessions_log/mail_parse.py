"""Reading one received email into plain values, whatever state it arrives in (no database here).

``mail_parse(raw)`` never trusts the message: headers are read raw and decoded here (RFC 2047 words, raw
8-bit bytes), each text part is decoded with its declared charset and then fallbacks (GBK and GB2312 are
read as GB18030, their superset; a missing or wrong charset is tried as UTF-8, then GB18030), broken MIME
is read as far as it goes and its defects are listed. Only a message with no sender address at all is
refused (``MailParseError``). The reply's own text is split from the quoted history and the signature
(mail-parser-reply, English and Chinese markers, then "> " lines) so the timeline shows what is new.
"""

from __future__ import annotations

import codecs
import email.errors
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime

from django.utils import timezone
from django.utils.html import strip_tags
from mailparser_reply import EmailReplyParser

# Read as GB18030, which contains them all (a "GB2312" mail often holds GBK-only characters).
GB_CHARSETS = {"gb2312", "gbk", "x-gbk", "cp936", "gb_2312-80", "euc-cn", "x-euc-cn", "csgb2312", "chinese"}
# Single-byte charsets decode any bytes, so a UTF-8 mail mislabelled as one of them is tried as UTF-8 first.
SINGLE_BYTE = re.compile(r"^(us-)?ascii$|^iso-8859-\d+$|^latin-?\d$|^windows-125\d$|^cp125\d$")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
# The stdlib parser's failure modes on hostile input (header folding, address lists, parameter values):
# each is caught where a header or part is read, and that header or part is skipped, never the message.
READ_ERRORS = (email.errors.MessageError, ValueError, LookupError, TypeError, IndexError, AttributeError)
# The reply parser's regular expressions are unbounded: only the head of a very long text is split.
FOLD_LIMIT = 50_000
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to", "x-delivered-to")
REPLY_PARSER = EmailReplyParser(languages=["en", "zh"])


class MailParseError(Exception):
    """A message that cannot be stored at all; ``reason`` says why (for the fetch run's problems)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class MailPart:
    """An attached file as the message carried it (checked and stored by ``attachment_store``)."""

    name: str
    content_type: str
    content: bytes


@dataclass
class ParsedMail:
    message_id: str  # "<...>" as sent, or one made from a hash of the message when it had none
    from_address: str
    from_name: str = ""
    recipients: list[str] = field(default_factory=list)
    subject: str = ""
    occurred_at: datetime | None = None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    body: str = ""
    quoted: str = ""
    attachments: list[MailPart] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    has_message_id: bool = True

    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, the most direct first (In-Reply-To, then References newest first)."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [ref for ref in reversed(self.references) if ref not in ids]
        return ids


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data`` in its declared charset, else the first fallback that reads it without error."""
    declared = (charset or "").strip().strip("\"'").lower()
    if declared in GB_CHARSETS:
        declared = "gb18030"
    candidates = []
    if declared and SINGLE_BYTE.match(declared):
        candidates = ["utf-8", declared]
    elif declared and declared not in ("unknown-8bit", "x-unknown", "8bit", "default"):
        candidates = [declared]
    candidates += ["utf-8", "gb18030"]
    for name in dict.fromkeys(candidates):
        try:
            codecs.lookup(name)
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def decode_header_value(raw: str) -> str:
    """A header's text: RFC 2047 encoded words decoded (with fallbacks), raw 8-bit bytes read as text."""
    if any(ord(ch) > 127 for ch in raw):
        # BytesParser keeps 8-bit header bytes as surrogate escapes: get them back and decode them.
        raw = decode_bytes(raw.encode("ascii", "surrogateescape"), None) if _escaped(raw) else raw
    try:
        chunks = decode_header(raw)
    except READ_ERRORS:
        return _one_line(raw)
    text = "".join(
        decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in chunks
    )
    return _one_line(text)


def _escaped(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\x00", "")).strip()


def _raw_headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(str(value))
    return headers


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(name, lowercased address) pairs; malformed entries are left out."""
    try:
        pairs = getaddresses([decode_header_value(value) for value in values])
    except READ_ERRORS:
        return []
    return [(name.strip(), address.strip().lower()) for name, address in pairs if "@" in (address or "")]


def _message_ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value or "")


def _date(values: list[str]) -> datetime | None:
    if not values:
        return None
    try:
        when = parsedate_to_datetime(values[0].strip())
    except READ_ERRORS:
        return None
    if when is None:
        return None
    if timezone.is_naive(when):
        when = when.replace(tzinfo=UTC)
    now = timezone.now()
    # A clock far ahead (or a made-up date) would put the mail above everything on the timeline for years.
    if when > now + timedelta(hours=1) or when.year < 1980:
        return now
    return when


def html_to_text(markup: str) -> str:
    """Readable text of an HTML mail: scripts and styles dropped, line breaks kept, entities decoded."""
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|blockquote)\s*>", "\n", markup)
    markup = re.sub(r"(?i)<blockquote\b[^>]*>", "\n> ", markup)
    text = html.unescape(strip_tags(markup))
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def fold_quoted(text: str) -> tuple[str, str]:
    """(the reply's own text, the quoted history and signature) of a plain-text mail body."""
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        return "", ""
    head, tail = text[:FOLD_LIMIT], text[FOLD_LIMIT:]
    try:
        replies = REPLY_PARSER.read(head).replies
    except (RecursionError, re.error):
        replies = []
    if replies and replies[0].body.strip():
        first = replies[0]
        body = first.body.strip()
        rest = [first.signatures] + [reply.content for reply in replies[1:]]
        quoted = "\n\n".join(part.strip() for part in rest if part and part.strip())
    else:
        body, quoted = head, ""
    # A quoted block the parser did not recognise (no "On ... wrote:" line): trailing "> " lines.
    lines = body.split("\n")
    cut = len(lines)
    while cut > 0 and (lines[cut - 1].startswith(">") or not lines[cut - 1].strip()):
        cut -= 1
    if 0 < cut < len(lines):
        quoted = "\n".join(lines[cut:]).strip() + ("\n\n" + quoted if quoted else "")
        body = "\n".join(lines[:cut]).rstrip()
    if tail:
        quoted = (quoted + "\n" + tail).strip() if quoted else tail
    return body.strip(), quoted.strip()


def _part_bytes(part: Message, kind: str) -> bytes:
    if kind.startswith("message/"):
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0].as_bytes()
        return str(inner or "").encode("utf-8", "surrogateescape")
    payload = part.get_payload(decode=True)
    if payload is None and isinstance(part.get_payload(), str):
        # A multipart whose boundary never comes: its payload is the raw text.
        return str(part.get_payload()).encode("utf-8", "surrogateescape")
    return payload if isinstance(payload, bytes) else b""


def _is_attachment(part: Message, kind: str) -> bool:
    if (part.get_content_disposition() or "").lower() == "attachment":
        return True
    # Inline images and files: kept as attachments (they carry content the text refers to).
    return not kind.startswith(("text/", "multipart/"))


def _filename(part: Message, kind: str, position: int) -> str:
    try:
        name = part.get_filename() or ""
    except READ_ERRORS:
        name = ""
    name = decode_header_value(str(name)) if name else ""
    if not name:
        name = (
            f"attachment-{position}.{'eml' if kind == 'message/rfc822' else kind.partition('/')[2] or 'bin'}"
        )
    return name


def _walk(message: Message, found: ParsedMail) -> tuple[str, str]:
    """(first text/plain, first text/html) of the message; every other leaf part becomes an attachment.

    Each part's Content-Type is read once (policy.default parses a header anew on every access).
    """
    plain = markup = ""
    position = 0
    for part in message.walk():
        kind = "multipart/mixed"
        try:
            if part.is_multipart():
                continue
            kind = part.get_content_type()
            if _is_attachment(part, kind):
                position += 1
                found.attachments.append(
                    MailPart(_filename(part, kind, position), kind, _part_bytes(part, kind))
                )
                continue
            if kind not in ("text/plain", "text/html") and part is not message:
                continue
            charset = part.get_param("charset")
            if isinstance(charset, tuple):  # an RFC 2231 value
                charset = collapse_rfc2231_value(charset)
            text = decode_bytes(_part_bytes(part, kind), str(charset) if charset else None)
            if kind == "text/html" and not markup:
                markup = text
            elif kind != "text/html" and not plain:
                plain = text
        except READ_ERRORS as error:
            found.defects.append(f"{type(error).__name__} in a {kind} part: {error}")
    return plain, markup


def _synthetic_id(headers: dict[str, list[str]], raw: bytes) -> str:
    """A Message-ID for a message without one: the same message read twice gets the same one."""
    digest = hashlib.sha256()
    for name in ("from", "to", "cc", "date", "subject"):
        digest.update(f"{name}:{headers.get(name, [''])[0]}\n".encode("utf-8", "surrogateescape"))
    body_start = raw.find(b"\r\n\r\n")
    body_start = raw.find(b"\n\n") if body_start < 0 else body_start
    digest.update(hashlib.sha256(raw[body_start:] if body_start >= 0 else raw).digest())
    return f"<{digest.hexdigest()[:40]}@no-message-id.invalid>"


def mail_parse(raw: bytes) -> ParsedMail:
    """Read one message (RFC 5322 bytes). MailParseError when it has no sender address to store it by."""
    if not raw.strip():
        raise MailParseError("empty message")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = _raw_headers(message)
    senders = _addresses(headers.get("from", [])) or _addresses(headers.get("sender", []))
    if not senders:
        shown = decode_header_value(headers["from"][0])[:100] if headers.get("from") else ""
        raise MailParseError(
            f"no sender address (From: {shown!r})" if shown else "not a mail message: no From header"
        )
    name, address = senders[0]
    ids = _message_ids(headers.get("message-id", [""])[0])
    found = ParsedMail(
        message_id=ids[0] if ids else _synthetic_id(headers, raw),
        has_message_id=bool(ids),
        from_address=address[:254],
        from_name=name[:200],
        recipients=[addr for header in RECIPIENT_HEADERS for _n, addr in _addresses(headers.get(header, []))],
        subject=decode_header_value(headers.get("subject", [""])[0]),
        occurred_at=_date(headers.get("date", [])),
        in_reply_to=(_message_ids(headers.get("in-reply-to", [""])[0]) or [""])[0],
        references=_message_ids(" ".join(headers.get("references", []))),
    )
    found.defects += [type(defect).__name__ for defect in message.defects]
    plain, markup = _walk(message, found)
    found.body, found.quoted = fold_quoted(plain if plain.strip() else html_to_text(markup))
    return found
