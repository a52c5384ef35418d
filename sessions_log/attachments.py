"""Files on interactions: the limits in one place, stored through Django's storage API, served with a check.

Both the quick-log form (a staff member's upload) and mail in (a customer's attachments) store through
``attachment_store``, so the same rules hold for every file whatever brought it.
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from sessions_log.models import Attachment, Interaction, UnmatchedItem

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
# Files whose first bytes say what they are: a file claiming one of these types must start that way.
MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
}
MAX_NAME = 255
MAX_PER_INTERACTION = 10


def max_bytes() -> int:
    return int(getattr(settings, "CRM_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def allowed_types() -> tuple[str, ...]:
    return tuple(getattr(settings, "CRM_ATTACHMENT_TYPES", DEFAULT_ALLOWED_TYPES))


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int


def clean_name(name: str) -> str:
    """The base name only (no folders, no control characters), at most MAX_NAME characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable()).strip() or "attachment"
    stem, ext = os.path.splitext(base)
    return (stem[: MAX_NAME - len(ext)] + ext)[:MAX_NAME]


def attachment_check(*, name: str, content_type: str, size: int, head: bytes) -> CheckedFile:
    """ValidationError naming the file if it is empty, too big, of a type not allowed or not what it says.

    ``content_type`` is what the sender said; when it is missing or generic the file name's extension
    decides. ``head`` is the file's first bytes (at least 16), checked against the claimed type.
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
            _("“%(name)s” is %(size)s MB; at most %(max)s MB per file.")
            % {"name": cleaned, "size": round(size / 1024 / 1024, 1), "max": round(limit / 1024 / 1024, 1)},
            code="too_big",
        )
    if claimed not in allowed_types():
        raise ValidationError(
            _("“%(name)s” is of a type that cannot be attached (%(type)s).")
            % {"name": cleaned, "type": claimed},
            code="type",
        )
    signatures = MAGIC.get(claimed)
    if signatures and not head.startswith(signatures):
        raise ValidationError(
            _("“%(name)s” says it is %(type)s but its content is not.") % {"name": cleaned, "type": claimed},
            code="mismatch",
        )
    return CheckedFile(name=cleaned, content_type=claimed, size=size)


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
    """
    if (interaction is None) == (unmatched is None):
        raise ValueError("An attachment belongs to exactly one interaction or unmatched item.")
    if isinstance(content, bytes):
        stored: Any = ContentFile(content)
        size, head = len(content), content[:16]
    else:
        size = int(content.size)
        content.seek(0)
        head = content.read(16)
        content.seek(0)
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
    attachment.file.save(checked.name, stored, save=False)
    attachment.save()
    return attachment
