"""Files on interactions: the limits in one place, stored through Django's storage API, served with a check.

Both the quick-log form (a staff member's upload) and mail in (a customer's attachments) store through
``attachment_store``, so the same rules hold for every file whatever brought it. Storage is not
transactional: a write that stores files runs in ``attachments_atomic()`` (``crm_site.db.atomic`` that
also removes the files it stored when the block fails), so a rolled-back interaction leaves no file behind.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from crm_site.db import atomic, on_commit
from crm_site.visibility import sees_everything
from sessions_log.models import Attachment, FollowUp, Interaction, UnmatchedItem

# A scanned contract or a few photos from a visit fit; a video does not belong in a CRM record.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Documents, images, text and archives customers send; never anything a browser or an OS would run.
DEFAULT_ALLOWED_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "message/rfc822",
)
ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_HEAD = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # the legacy Office formats (.doc, .xls, .ppt)
# Files whose first bytes say what they are: a file claiming one of these types must start that way.
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/zip": ZIP_HEADS,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ZIP_HEADS,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ZIP_HEADS,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ZIP_HEADS,
    "application/msword": OLE2_HEAD,
    "application/vnd.ms-excel": OLE2_HEAD,
    "application/vnd.ms-powerpoint": OLE2_HEAD,
}
# Programs (ELF, Mach-O; Windows PE in _is_program), refused whatever type or name they come under.
PROGRAM_HEADS = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
)
TEXT_TYPES = ("text/plain", "text/csv", "message/rfc822")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HEAD_BYTES = 64
MAX_NAME = 255
MAX_PER_INTERACTION = 10
_SAFE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")


def max_bytes() -> int:
    return int(getattr(settings, "CRM_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def allowed_types() -> tuple[str, ...]:
    return tuple(getattr(settings, "CRM_ATTACHMENT_TYPES", DEFAULT_ALLOWED_TYPES))


def accept_attribute() -> str:
    """The file input's ``accept``: the allowed types and their extensions (what the picker offers)."""
    extensions = sorted({ext for kind in allowed_types() for ext in mimetypes.guess_all_extensions(kind)})
    return ",".join([*allowed_types(), *extensions])


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int


def clean_name(name: str) -> str:
    """The base name only (no folders, no control characters, no leading dots), at most MAX_NAME long."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".").strip() or "attachment"
    stem, ext = os.path.splitext(base)
    return (stem[: MAX_NAME - len(ext)] + ext)[:MAX_NAME]


def _is_program(head: bytes) -> bool:
    # "MZ" alone could start a text file; a PE file has NUL bytes in its first header words.
    return head.startswith(PROGRAM_HEADS) or (head.startswith(b"MZ") and b"\x00" in head[:16])


def attachment_check(*, name: str, content_type: str, size: int, head: bytes) -> CheckedFile:
    """ValidationError naming the file if it is empty, too big, of a type not allowed or not what it says.

    ``content_type`` is what the sender said; when it is missing or generic the file name's extension
    decides. ``head`` is the file's first bytes (at least 16, ideally HEAD_BYTES), checked against the
    claimed type: a program is refused whatever it claims, text must not be binary.
    """
    cleaned = clean_name(name)
    claimed = (content_type or "").split(";")[0].strip().lower()
    if not claimed or claimed == "application/octet-stream":
        claimed = (mimetypes.guess_type(cleaned)[0] or "application/octet-stream").lower()
    if size <= 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": cleaned}, code="empty")
    limit = max_bytes()
    if size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size)s; at most %(max)s per file.")
            % {"name": cleaned, "size": filesizeformat(size), "max": filesizeformat(limit)},
            code="too_big",
        )
    if claimed not in allowed_types():
        raise ValidationError(
            _("“%(name)s” is of a type that cannot be attached (%(type)s).")
            % {"name": cleaned, "type": claimed},
            code="type",
        )
    signatures = MAGIC.get(claimed)
    binary_text = claimed in TEXT_TYPES and b"\x00" in head and not head.startswith(UTF16_BOMS)
    if _is_program(head) or binary_text or (signatures and not head.startswith(signatures)):
        raise ValidationError(
            _("“%(name)s” says it is %(type)s but its content is not.") % {"name": cleaned, "type": claimed},
            code="mismatch",
        )
    return CheckedFile(name=cleaned, content_type=claimed, size=size)


def _head(content: Any) -> bytes:
    content.seek(0)
    head = content.read(HEAD_BYTES)
    content.seek(0)
    return head


def upload_check(upload: UploadedFile) -> CheckedFile:
    """``attachment_check`` of an uploaded file (its name, the browser's type, its size, its first bytes)."""
    return attachment_check(
        name=upload.name or "",
        content_type=upload.content_type or "",
        size=int(upload.size or 0),
        head=_head(upload),
    )


def uploads_check(uploads: Sequence[UploadedFile], *, already: int = 0) -> list[CheckedFile]:
    """Every file checked before any is stored: one ValidationError listing each bad file by name."""
    room = MAX_PER_INTERACTION - already
    if len(uploads) > room:
        raise ValidationError(
            _("At most %(max)s files per interaction; %(count)s chosen, room for %(room)s.")
            % {"max": MAX_PER_INTERACTION, "count": len(uploads), "room": max(room, 0)},
            code="too_many",
        )
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(upload_check(upload))
        except ValidationError as error:
            errors.extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    return checked


# The names of the files stored inside the innermost open ``attachments_atomic`` block.
_stored_in_block: ContextVar[list[str] | None] = ContextVar("crm_attachment_files", default=None)


@contextmanager
def attachments_atomic() -> Iterator[None]:
    """``crm_site.db.atomic`` for writes that store files: when the block fails, its files are deleted.

    A block that succeeds inside another hands its files to the outer one (which may still fail).
    """
    outer = _stored_in_block.get()
    stored: list[str] = []
    token = _stored_in_block.set(stored)
    try:
        with atomic():
            yield
    except BaseException:
        for name in stored:
            Attachment.file.field.storage.delete(name)
        raise
    finally:
        _stored_in_block.reset(token)
    if outer is not None:
        outer.extend(stored)


def _storage_name(attachment: Attachment, checked: CheckedFile) -> str:
    # The storage path never carries the sender's name (length, characters, collisions): the row's id
    # and a plain extension; the name shown and downloaded is Attachment.name.
    ext = os.path.splitext(checked.name)[1].lower()
    return attachment.pk.hex + (ext if _SAFE_EXTENSION.fullmatch(ext) else "")


def attachment_store(
    *,
    content: bytes | Any,
    name: str,
    content_type: str,
    interaction: Interaction | None = None,
    unmatched: UnmatchedItem | None = None,
    user: Any = None,
) -> Attachment:
    """Check and store one file on an interaction or an unmatched item; ValidationError when it may not be.

    ``content`` is the bytes, or an uploaded file (Django's ``UploadedFile``: read in chunks, never whole).
    Call it inside ``attachments_atomic()`` with the rows it belongs to: a failure there removes the file.
    """
    if (interaction is None) == (unmatched is None):
        raise ValueError("An attachment belongs to exactly one interaction or unmatched item.")
    if isinstance(content, bytes):
        stored: Any = ContentFile(content)
        size, head = len(content), content[:HEAD_BYTES]
    else:
        size = int(content.size)
        head = _head(content)
        stored = content
    checked = attachment_check(name=name, content_type=content_type, size=size, head=head)
    attachment = Attachment(
        interaction=interaction,
        unmatched=unmatched,
        name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        uploaded_by=user if getattr(user, "is_authenticated", False) else None,
    )
    try:
        attachment.file.save(_storage_name(attachment, checked), stored, save=False)
    except OSError as error:
        raise ValidationError(
            _("“%(name)s” could not be stored (%(reason)s); nothing was saved.")
            % {"name": checked.name, "reason": error.strerror or error.__class__.__name__},
            code="storage",
        ) from error
    pending = _stored_in_block.get()
    if pending is not None:
        pending.append(attachment.file.name)
    try:
        attachment.save()
    except BaseException:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


def attachments_add(
    *, interaction: Interaction, uploads: Sequence[UploadedFile], user: Any
) -> list[Attachment]:
    """Add files to an interaction the user may change: all of them or none (each checked first)."""
    already = interaction.attachments.count()
    uploads_check(uploads, already=already)
    with attachments_atomic():
        return [
            attachment_store(
                content=upload,
                name=upload.name or "",
                content_type=upload.content_type or "",
                interaction=interaction,
                user=user,
            )  # fmt: skip
            for upload in uploads
        ]


def interaction_log_with_files(
    *, uploads: Sequence[UploadedFile], **log: Any
) -> tuple[Interaction, FollowUp | None]:
    """``services.interaction_log`` and the files logged with it: every file checked before anything is
    written, then the interaction, its follow-up and its files in one transaction (a file that cannot be
    stored leaves neither the interaction nor any file)."""
    from sessions_log.services import interaction_log

    uploads_check(uploads)
    with attachments_atomic():
        interaction, follow_up = interaction_log(**log)
        for upload in uploads:
            attachment_store(
                content=upload, name=upload.name or "", content_type=upload.content_type or "",
                interaction=interaction, user=log.get("staff"),
            )  # fmt: skip
    return interaction, follow_up


def attachment_may_delete(*, attachment: Attachment, user: Any) -> bool:
    """Who uploaded it, the interaction's staff member, the customer's owner, or a manager.

    The caller has already checked ``change`` on the attachment (so on its customer).
    """
    if sees_everything(user):
        return True
    interaction = attachment.interaction
    return user.pk is not None and user.pk in (
        attachment.uploaded_by_id,
        interaction.staff_id if interaction else None,
        interaction.customer.owner_id if interaction else None,
    )


def attachment_delete(*, attachment: Attachment, user: Any) -> None:
    """Remove a file from its interaction (the row now, the stored file once that commits)."""
    if not attachment_may_delete(attachment=attachment, user=user):
        raise ValidationError(
            _("Only who uploaded “%(name)s”, the customer's owner or a manager may remove it.")
            % {"name": attachment.name},
            code="not_owner",
        )
    with atomic():
        attachment.delete()


@receiver(post_delete, sender=Attachment, dispatch_uid="sessions_log.attachment_file_delete")
def _file_delete_after_commit(sender: Any, instance: Attachment, **kwargs: Any) -> None:
    """The stored file goes when its row does (also when an interaction or customer is deleted), once the
    deletion commits: a rolled-back delete keeps both."""
    name, storage = instance.file.name, instance.file.storage
    if name:
        on_commit(lambda: storage.delete(name))


class OversizedUpload(UploadedFile):
    """A file past the attachment limit: its name, type, full size and first bytes, nothing more."""

    def __init__(self, *, name: str, content_type: str, size: int, head: bytes, charset: str | None) -> None:
        super().__init__(BytesIO(head), name=name, content_type=content_type, size=size, charset=charset)


class AttachmentUploadHandler(FileUploadHandler):
    """First of a view's upload handlers: past the attachment limit a file's bytes are no longer kept (the
    request is still read to its end), and the form sees the file with its real size, so the too-big file
    is a form error naming it, not a 400 and not a disk filled with what will be refused."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.seen = 0
        self.head = b""
        self.over = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.seen += len(raw_data)
        if len(self.head) < HEAD_BYTES:
            self.head += raw_data[: HEAD_BYTES - len(self.head)]
        if self.over or self.seen > max_bytes():
            self.over = True
            return None  # the later handlers (memory, temporary file) get nothing more
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.over:
            return None  # a later handler holds the whole file
        return OversizedUpload(
            name=self.file_name or "", content_type=self.content_type or "", size=self.seen,
            head=self.head, charset=self.charset,
        )  # fmt: skip
