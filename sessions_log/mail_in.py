"""Email in: read IMAP mailboxes and .eml/mbox files, store each message once (its customer, or the inbox).

One message goes: parse (``mail_parse``: never trusts the bytes) -> stored already? (its Message-ID, or a
hash for a message without one: read twice, stored once) -> its thread (In-Reply-To/References against
``Interaction.message_id``, then the signed reply-to address it was sent to, then ``[CRM-<code>]`` in
the subject; ``sessions_log.threads``) -> else its customer by the sender's address (the customers'
normalised contact methods, ``customers.selectors.contact_owners_by_value``) -> an inbound email
``Interaction`` on that customer, or an ``UnmatchedItem`` for staff to attach (``sessions_log.inbox``).
Its files go through ``attachment_store`` (the same limits as uploads). Whatever goes wrong with one
message or file (malformed, too big, a type refused) is a problem on the ``MailFetchRun`` with the
reason, and the fetch goes on; a mailbox that cannot be read stores its error on the account and the run.

A mailbox is read by UID above ``last_uid`` (from the start again when its UIDVALIDITY changes), never
marking anything seen, by one run at a time (``account_lock``: a compare-and-set update).
"""

from __future__ import annotations

import imaplib
import logging
import mailbox
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone
from imap_tools import MailBox, MailBoxUnencrypted, MailMessage
from imap_tools.errors import ImapToolsError

from customers.selectors import ContactOwner, contact_owners_by_value, contact_owners_by_values
from sessions_log.attachments import MAX_PER_INTERACTION, attachment_store, attachments_atomic
from sessions_log.mail_parse import READ_ERRORS, MailParseError, ParsedMail, mail_parse
from sessions_log.models import Interaction, MailAccount, MailFetchRun, UnmatchedItem
from sessions_log.threads import (
    subject_without_token,
    thread_token_new,
    token_from_address,
    token_from_subject,
)

logger = logging.getLogger(__name__)

MAX_PROBLEMS = 200  # kept on a run; the counts say how many there were in all
BATCH = 50  # messages fetched per IMAP command (and between two saves of the run)
LOCK_TTL = timedelta(minutes=15)
IMAP_TIMEOUT = 60
# What a mail server (or the network to it) does wrong: the run stops and says so, the data stays.
SERVER_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError, EOFError)
BODY_MAX = 20_000  # Interaction.body
QUOTED_MAX = 200_000
_UID_SIZE = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")
COUNTERS = {"matched": "matched", "unmatched": "unmatched", "duplicate": "duplicates"}


@dataclass
class Lookups:
    """What a batch of messages would otherwise ask the database one message at a time."""

    stored: set[str] = field(default_factory=set)  # Message-IDs already stored
    owners: dict[str, list[ContactOwner]] = field(default_factory=dict)  # sender address -> customers


def lookups_for(parsed: list[ParsedMail]) -> Lookups:
    """Two queries for the batch: which Message-IDs are stored, whose customers the senders are."""
    ids = [mail.message_id[:255] for mail in parsed]
    stored = set(Interaction.objects.filter(message_id__in=ids).values_list("message_id", flat=True))
    stored |= set(UnmatchedItem.objects.filter(message_id__in=ids).values_list("message_id", flat=True))
    owners = contact_owners_by_values(kind="email", values=[mail.from_address for mail in parsed])
    return Lookups(stored=stored, owners=owners)


class MailAccountError(Exception):
    """A mailbox that is set up wrong (no password in the environment)."""


def max_message_bytes() -> int:
    return int(getattr(settings, "CRM_MAIL_MAX_MESSAGE_BYTES", 40 * 1024 * 1024))


def problem_add(run: MailFetchRun, message: str, reason: str) -> None:
    if len(run.problems) < MAX_PROBLEMS:
        run.problems.append({"message": str(message)[:300], "reason": str(reason)[:500]})


# --- threading and matching ------------------------------------------------------------------------------


def thread_root_find(parsed: ParsedMail) -> Interaction | None:
    """The first mail of the thread this one answers, or None: by Message-ID, signed address, subject code."""
    ids = parsed.thread_ids()[:100]
    if ids:
        parents = {
            row.message_id: row
            for row in Interaction.objects.filter(message_id__in=ids, channel=Interaction.Channel.EMAIL)
        }
        for message_id in ids:
            if message_id in parents:
                return _root_of(parents[message_id])
    for address in parsed.recipients:
        if token := token_from_address(address):
            if (root := _root_by_token(token)) is not None:
                return root
    if token := token_from_subject(parsed.subject):
        return _root_by_token(token)
    return None


def _root_of(row: Interaction) -> Interaction:
    if row.thread_id is None:
        return row
    return Interaction.objects.filter(pk=row.thread_id).first() or row


def _root_by_token(token: str) -> Interaction | None:
    row = Interaction.objects.filter(thread_token=token).order_by("occurred_at", "id").first()
    return _root_of(row) if row is not None else None


def _customer_for(
    parsed: ParsedMail, account: MailAccount | None, lookups: Lookups | None
) -> tuple[Any, Any, str]:
    """(customer id, its owner id, "") of the sender; (None, None, why not) when no one customer has it."""
    if lookups is not None:
        owners = lookups.owners.get(parsed.from_address.lower(), [])
    else:
        owners = contact_owners_by_value(kind="email", value=parsed.from_address)
    if len(owners) == 1:
        return owners[0].customer_id, owners[0].owner_id, ""
    if not owners:
        return None, None, ""
    mine = [owner for owner in owners if account is not None and owner.owner_id == account.owner_id]
    if len(mine) == 1:
        return mine[0].customer_id, mine[0].owner_id, ""
    return None, None, f"{len(owners)} customers have the address {parsed.from_address}: left in the inbox"


def _texts(parsed: ParsedMail) -> tuple[str, str]:
    body, quoted = parsed.body, parsed.quoted
    if len(body) > BODY_MAX:
        body, quoted = body[:BODY_MAX], body[BODY_MAX:] + ("\n\n" + quoted if quoted else "")
    return body, quoted[:QUOTED_MAX]


def _store_files(parsed: ParsedMail, run: MailFetchRun | None, ref: str, **owner: Any) -> None:
    for position, part in enumerate(parsed.attachments):
        if position >= MAX_PER_INTERACTION:
            if run is not None:
                problem_add(
                    run,
                    ref,
                    f"{len(parsed.attachments)} attachments: only the first {MAX_PER_INTERACTION} kept",
                )
            return
        try:
            attachment_store(content=part.content, name=part.name, content_type=part.content_type, **owner)
        except ValidationError as error:
            if run is not None:
                problem_add(run, ref, "attachment refused: " + " ".join(error.messages))
        except OSError as error:  # the storage refused the write (disk full, permissions)
            if run is not None:
                problem_add(run, ref, f"attachment {part.name!r} not stored: {error}")


def mail_store(
    *,
    parsed: ParsedMail,
    account: MailAccount | None = None,
    received_by: Any = None,
    run: MailFetchRun | None = None,
    ref: str = "",
    lookups: Lookups | None = None,
) -> str:
    """Store one parsed message: "duplicate" (stored before), "matched" (an interaction) or "unmatched".

    One transaction; the files it stored are deleted again when it fails (``attachments_atomic``).
    ``lookups``: the batch's answers read before (``lookups_for``), kept up to date here.
    """
    with attachments_atomic():
        outcome = _mail_store(
            parsed=parsed, account=account, received_by=received_by, run=run, ref=ref, lookups=lookups
        )
    if lookups is not None:
        lookups.stored.add(parsed.message_id[:255])
    return outcome


def _mail_store(
    *,
    parsed: ParsedMail,
    account: MailAccount | None,
    received_by: Any,
    run: MailFetchRun | None,
    ref: str,
    lookups: Lookups | None,
) -> str:
    message_id = parsed.message_id[:255]
    if lookups is not None:
        if message_id in lookups.stored:
            return "duplicate"
    elif (
        Interaction.objects.filter(message_id=message_id).exists()
        or UnmatchedItem.objects.filter(message_id=message_id).exists()
    ):
        return "duplicate"
    body, quoted = _texts(parsed)
    common = {
        "channel": Interaction.Channel.EMAIL,
        "direction": Interaction.Direction.INBOUND,
        "counterpart": parsed.from_address[:254],
        "subject": subject_without_token(parsed.subject)[:200],
        "body": body,
        "quoted_text": quoted,
        "occurred_at": parsed.occurred_at or timezone.now(),
        "message_id": message_id,
        "in_reply_to": parsed.in_reply_to[:255],
        "references": " ".join(parsed.references)[:20_000],
        "mail_account": account,
    }
    root = thread_root_find(parsed)
    customer_id = owner_id = None
    why = ""
    if root is None:
        customer_id, owner_id, why = _customer_for(parsed, account, lookups)
    if root is not None or customer_id is not None:
        staff_id = (root.staff_id if root is not None else None) or (account.owner_id if account else None)
        interaction = Interaction(
            **common,
            customer_id=root.customer_id if root is not None else customer_id,  # type: ignore[misc]
            staff_id=staff_id or owner_id,
            thread=root,
            thread_token=(root.thread_token if root is not None else "") or thread_token_new(),
        )
        # The foreign keys were just read (or are None): full_clean would read each of them once more.
        interaction.full_clean(exclude=["customer", "staff", "thread", "mail_account"], validate_unique=False)
        interaction.save()
        if root is not None and not root.thread_token:
            Interaction.objects.filter(pk=root.pk).update(thread_token=interaction.thread_token)
        _store_files(parsed, run, ref, interaction=interaction)
        return "matched"
    if why and run is not None:
        problem_add(run, ref, why)
    item = UnmatchedItem(
        **common,
        counterpart_name=parsed.from_name[:200],
        received_by=received_by if received_by is not None else (account.owner if account else None),
    )
    item.full_clean(exclude=["mail_account", "received_by"], validate_unique=False)
    item.save()
    _store_files(parsed, run, ref, unmatched=item)
    return "unmatched"


def _parse_counted(raw: bytes, *, run: MailFetchRun, ref: str) -> ParsedMail | None:
    run.read += 1
    try:
        parsed = mail_parse(raw)
    except MailParseError as error:
        run.failed += 1
        problem_add(run, ref, error.reason)
        return None
    except (*READ_ERRORS, RecursionError, UnicodeError) as error:
        run.failed += 1
        problem_add(run, ref, f"malformed message ({type(error).__name__}: {error})")
        return None
    if parsed.defects:
        problem_add(
            run,
            _label(ref, parsed),
            "malformed MIME, stored what could be read: " + ", ".join(parsed.defects[:8]),
        )
    return parsed


def _label(ref: str, parsed: ParsedMail) -> str:
    return f"{ref} {parsed.message_id if parsed.has_message_id else ''}".strip()


def _store_counted(
    parsed: ParsedMail, *, run: MailFetchRun, ref: str, lookups: Lookups | None, **where: Any
) -> str:
    label = _label(ref, parsed)
    try:
        outcome = mail_store(parsed=parsed, run=run, ref=label, lookups=lookups, **where)
    except ValidationError as error:
        run.failed += 1
        problem_add(run, label, "not stored: " + "; ".join(error.messages))
        return "failed"
    except DatabaseError as error:
        run.failed += 1
        logger.warning("mail %s not stored: %s", label, error)
        problem_add(run, label, f"not stored: {type(error).__name__}: {error}")
        return "failed"
    counter = COUNTERS[outcome]
    setattr(run, counter, getattr(run, counter) + 1)
    return outcome


def mail_ingest(
    raw: bytes, *, run: MailFetchRun, ref: str, account: MailAccount | None = None, received_by: Any = None
) -> str:
    """Parse and store one message, counting it on ``run``; a problem is logged there, never raised."""
    parsed = _parse_counted(raw, run=run, ref=ref)
    if parsed is None:
        return "failed"
    return _store_counted(parsed, run=run, ref=ref, lookups=None, account=account, received_by=received_by)


def mail_ingest_many(
    messages: list[tuple[str, bytes]],
    *,
    run: MailFetchRun,
    account: MailAccount | None = None,
    received_by: Any = None,
) -> None:
    """``mail_ingest`` for a batch of (reference, raw message): what is stored and who the senders are is
    read once for the batch (two queries), each message still stored in its own transaction."""
    parsed = [
        (ref, mail) for ref, raw in messages if (mail := _parse_counted(raw, run=run, ref=ref)) is not None
    ]
    if not parsed:
        return
    lookups = lookups_for([mail for _ref, mail in parsed])
    for ref, mail in parsed:
        _store_counted(mail, run=run, ref=ref, lookups=lookups, account=account, received_by=received_by)


# --- files -----------------------------------------------------------------------------------------------


def _run_finish(run: MailFetchRun) -> MailFetchRun:
    run.finished_at = timezone.now()
    run.save()
    return run


def mail_fetch_file(*, path: str | Path, received_by: Any = None) -> MailFetchRun:
    """Read one .eml file (one message)."""
    run = MailFetchRun.objects.create(source=str(path)[:300])
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        run.error = f"{type(error).__name__}: {error}"[:500]
        return _run_finish(run)
    if len(raw) > max_message_bytes():
        run.read, run.failed = 1, 1
        problem_add(run, Path(path).name, _too_big(len(raw)))
        return _run_finish(run)
    mail_ingest(raw, run=run, ref=Path(path).name, received_by=received_by)
    return _run_finish(run)


def mail_fetch_mbox(*, path: str | Path, received_by: Any = None) -> MailFetchRun:
    """Read every message of an mbox file, in order."""
    run = MailFetchRun.objects.create(source=str(path)[:300])
    if not Path(path).is_file():
        run.error = f"{path}: no such file"[:500]
        return _run_finish(run)
    box = mailbox.mbox(str(path), create=False)
    try:
        pending: list[tuple[str, bytes]] = []
        for position, key in enumerate(box.iterkeys(), start=1):
            raw = box.get_bytes(key)
            if len(raw) > max_message_bytes():
                run.read, run.failed = run.read + 1, run.failed + 1
                problem_add(run, f"message {position}", _too_big(len(raw)))
                continue
            pending.append((f"message {position}", raw))
            if len(pending) == BATCH:
                mail_ingest_many(pending, run=run, received_by=received_by)
                pending = []
                run.save()
        mail_ingest_many(pending, run=run, received_by=received_by)
    except OSError as error:
        run.error = f"{type(error).__name__}: {error}"[:500]
    finally:
        box.close()
    return _run_finish(run)


def _too_big(size: int) -> str:
    return (
        f"message of {size / 1024 / 1024:.1f} MB not read: more than "
        f"{max_message_bytes() / 1024 / 1024:.0f} MB (CRM_MAIL_MAX_MESSAGE_BYTES)"
    )


# --- IMAP mailboxes --------------------------------------------------------------------------------------


def account_lock(*, account: MailAccount, token: str, ttl: timedelta = LOCK_TTL) -> bool:
    """True when this run (``token``) now holds the mailbox: free, expired, or already ours."""
    now = timezone.now()
    free = Q(lock_token="") | Q(locked_until__isnull=True) | Q(locked_until__lt=now) | Q(lock_token=token)
    return (
        MailAccount.objects.filter(free, pk=account.pk).update(lock_token=token, locked_until=now + ttl) == 1
    )


def account_unlock(*, account: MailAccount, token: str) -> None:
    MailAccount.objects.filter(pk=account.pk, lock_token=token).update(lock_token="", locked_until=None)


class _RawMessage(MailMessage):
    """imap-tools' message with the raw bytes kept (parsed here with policy.default, not compat32)."""

    def __init__(self, fetch_data: list) -> None:
        self.raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)


def _connect(account: MailAccount) -> Any:
    password = os.environ.get(account.password_env)
    if password is None:
        raise MailAccountError(f"the environment variable {account.password_env} is not set")
    box_class: Any = MailBox if account.use_ssl else MailBoxUnencrypted
    box = box_class(account.host, account.port, timeout=IMAP_TIMEOUT)
    box.email_message_class = _RawMessage
    return box.login(account.username, password, initial_folder=account.folder)


def _sizes(box: Any, uids: list[int]) -> dict[int, int]:
    """UID -> RFC822.SIZE for a batch, in one command (a message too big is never downloaded)."""
    status, data = box.client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
    sizes: dict[int, int] = {}
    for line in data if status == "OK" else []:
        text = line[0] if isinstance(line, tuple) else line
        uid = size = None
        for match in _UID_SIZE.finditer(text or b""):
            uid = int(match.group(1)) if match.group(1) else uid
            size = int(match.group(2)) if match.group(2) else size
        if uid is not None and size is not None:
            sizes[uid] = size
    return sizes


def _batches(items: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _read_account(account: MailAccount, run: MailFetchRun, token: str) -> None:
    with _connect(account) as box:
        status = box.folder.status(account.folder, ["UIDVALIDITY", "UIDNEXT"])
        validity = int(status.get("UIDVALIDITY", 0))
        if validity != account.uid_validity:
            if account.uid_validity:
                problem_add(
                    run, account.folder, "UIDVALIDITY changed: the folder is read again from its start "
                    "(messages stored before are recognised by their Message-ID)",
                )  # fmt: skip
            account.uid_validity, account.last_uid = validity, 0
            MailAccount.objects.filter(pk=account.pk).update(uid_validity=validity, last_uid=0)
        # "n:*" always includes the newest message, even below n: keep only the new ones.
        found = box.uids(f"UID {account.last_uid + 1}:*")
        uids = sorted(uid for uid in map(int, found) if uid > account.last_uid)
        for batch in _batches(uids):
            sizes = _sizes(box, batch)
            wanted = []
            for uid in batch:
                if sizes.get(uid, 0) > max_message_bytes():
                    run.read, run.failed = run.read + 1, run.failed + 1
                    problem_add(run, f"UID {uid}", _too_big(sizes[uid]))
                else:
                    wanted.append(uid)
            if wanted:
                fetched = box.fetch(uid_list=[str(uid) for uid in wanted], mark_seen=False, bulk=True)
                mail_ingest_many(
                    [(f"UID {message.uid}", message.raw) for message in fetched], run=run, account=account
                )
            account.last_uid = batch[-1]
            MailAccount.objects.filter(pk=account.pk).update(last_uid=batch[-1])
            run.save()
            account_lock(account=account, token=token)  # pushes the expiry on while the run makes progress


def mail_fetch_account(*, account: MailAccount) -> MailFetchRun | None:
    """Read the new messages of one mailbox; None when another run is reading it right now."""
    token = uuid.uuid4().hex
    if not account_lock(account=account, token=token):
        return None
    account.refresh_from_db(fields=["last_uid", "uid_validity"])
    source = f"imap://{account.username}@{account.host}:{account.port}/{account.folder}"
    run = MailFetchRun.objects.create(account=account, source=source[:300])
    error = ""
    try:
        _read_account(account, run, token)
    except (*SERVER_ERRORS, MailAccountError) as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
        logger.warning("mailbox %s not read: %s", account.name, error)
        run.error = error
    finally:
        _run_finish(run)
        MailAccount.objects.filter(pk=account.pk).update(last_error=error, last_fetched_at=timezone.now())
        account_unlock(account=account, token=token)
    return run


def mail_fetch_all(*, name: str = "") -> list[MailFetchRun]:
    """Read every active mailbox (or the one named); a mailbox another run is reading is skipped."""
    accounts = MailAccount.objects.filter(is_active=True).select_related("owner").order_by("name")
    if name:
        accounts = MailAccount.objects.filter(name=name).select_related("owner")
    runs = []
    for account in accounts:
        run = mail_fetch_account(account=account)
        if run is not None:
            runs.append(run)
    return runs


def run_summary(run: MailFetchRun) -> dict[str, Any]:
    return {
        "source": run.source,
        "read": run.read,
        "matched": run.matched,
        "unmatched": run.unmatched,
        "duplicates": run.duplicates,
        "failed": run.failed,
        "problems": len(run.problems),
        "error": run.error,
    }


def mail_account_check(*, account: MailAccount) -> str:
    """ "" when the mailbox can be logged in to and its folder opened, else what went wrong."""
    try:
        with _connect(account) as box:
            box.folder.status(account.folder, ["UIDVALIDITY"])
    except (*SERVER_ERRORS, MailAccountError) as failure:
        return f"{type(failure).__name__}: {failure}"[:500]
    return ""
