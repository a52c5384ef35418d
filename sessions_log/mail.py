"""Email out: canned replies rendered safely, an email logged as an interaction, and its delivery.

``email_compose`` records the email as an outbound email interaction (status "queued", with the
Message-ID it will carry) and, once the transaction commits, hands it to ``tasks.email_send``; the task
sends it through Django's email backend (console by default, SMTP when ``EMAIL_HOST`` is set) and marks
it sent, or failed with the server's reason. Nothing is recorded or sent for an address marked
do-not-contact. Every mail carries its thread's code in the subject and (with ``CRM_REPLY_ADDRESS``) in
a signed Reply-To address, so the customer's answer threads when read back (``sessions_log.mail_in``).
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, make_msgid
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic, on_commit
from sessions_log.models import CannedReply, DeliveryStatus, Interaction
from sessions_log.threads import reply_address, subject_with_token, thread_token_new

# A placeholder is "{name}"; anything in braces is scanned so that "{customer.__class__}" or "{x:>999}"
# is reported as unknown and left as typed, never evaluated (no attribute access, no format spec).
PLACEHOLDER = re.compile(r"\{([^{}\n]{1,60})\}")
PLACEHOLDERS = ("customer_name", "staff_name", "staff_email", "today")
# The part of a refusal kept on the interaction (the column's size).
MAX_ERROR = 500


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    unknown: tuple[str, ...]  # placeholders left as typed, in order of first appearance


def placeholder_values(*, customer: Any, staff: Any) -> dict[str, str]:
    """The whitelist: the only values a canned reply can insert (plain strings, nothing to walk into)."""
    return {
        "customer_name": customer.name,
        "staff_name": staff.get_full_name() or staff.get_username(),
        "staff_email": staff.email or "",
        "today": timezone.localdate().isoformat(),
    }


def render_text(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """``text`` with each known ``{name}`` replaced in one pass (a value is never rescanned); unknown
    ones are kept as typed and returned."""
    unknown: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if match.group(0) not in unknown:
            unknown.append(match.group(0))
        return match.group(0)

    return PLACEHOLDER.sub(replace, text), unknown


def canned_reply_render(*, reply: CannedReply, customer: Any, staff: Any) -> Rendered:
    values = placeholder_values(customer=customer, staff=staff)
    subject, unknown_subject = render_text(reply.subject, values)
    body, unknown_body = render_text(reply.body, values)
    unknown = list(dict.fromkeys([*unknown_subject, *unknown_body]))
    return Rendered(subject=subject, body=body, unknown=tuple(unknown))


def _message_id_domain() -> str:
    from_email = settings.DEFAULT_FROM_EMAIL
    domain = from_email.rpartition("@")[2].strip(" >")
    return domain or "localhost"


@atomic
def email_compose(
    *, customer: Any, staff: Any, contact: Any, subject: str, body: str, reply_to: Interaction | None = None
) -> Interaction:
    """Log an outbound email to one of a (checked) customer's addresses and send it after commit.

    Refused with the field named: an address of another customer or not an email, an address marked
    do-not-contact (nothing is logged or sent), an empty subject or body. ``reply_to`` (an email of the
    same customer) makes it a reply in that thread: In-Reply-To and References name it, and it carries
    the thread's code; otherwise it starts a thread with a new code. The code travels in the subject
    ("[CRM-<code>]") and in the signed Reply-To address (``sessions_log.threads``), so the answer threads.
    """
    if reply_to is not None and (reply_to.customer_id != customer.pk or reply_to.channel != "email"):
        raise ValidationError(_("The email replied to is not one of this customer's."))
    if contact.customer_id != customer.pk or contact.kind != "email":
        raise ValidationError({"to": _("Choose one of this customer's email addresses.")})
    if contact.do_not_contact:
        raise ValidationError(
            {
                "to": _("%(address)s is marked do not contact: no email is sent to it.")
                % {"address": contact.value}
            }
        )
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise ValidationError({"subject": _("Give the email a subject.")})
    if "\n" in subject or "\r" in subject:
        # A line break in a header would start another header (header injection); Django refuses it late.
        raise ValidationError({"subject": _("Write the subject on one line.")})
    if not body:
        raise ValidationError({"body": _("Write the email.")})
    interaction = Interaction(
        customer=customer,
        channel=Interaction.Channel.EMAIL,
        direction=Interaction.Direction.OUTBOUND,
        subject=subject,
        body=body,
        staff=staff,
        email_to=contact.value,
        message_id=make_msgid(domain=_message_id_domain()),
        delivery_status=DeliveryStatus.QUEUED,
    )
    if reply_to is not None:
        root = reply_to.thread if reply_to.thread is not None else reply_to
        if not root.thread_token:
            root.thread_token = thread_token_new()
            Interaction.objects.filter(pk=root.pk).update(thread_token=root.thread_token)
        interaction.thread = root
        interaction.thread_token = root.thread_token
        interaction.in_reply_to = reply_to.message_id
        interaction.references = " ".join([*reply_to.references.split(), reply_to.message_id])[-20_000:]
    else:
        interaction.thread_token = thread_token_new()
    interaction.full_clean()
    interaction.save()
    pk = str(interaction.pk)

    def enqueue() -> None:
        from sessions_log.tasks import email_send

        email_send.delay(pk)

    on_commit(enqueue)
    return interaction


def email_deliver(*, interaction_id: Any) -> str:
    """Send a queued email interaction once: claim it (queued -> sending), send, mark sent or failed.

    Returns the outcome ("sent", "failed", or "skipped" when it was not queued: already sent, failed,
    being sent, or not an email of the CRM's).
    """
    claimed = Interaction.objects.filter(pk=interaction_id, delivery_status=DeliveryStatus.QUEUED).update(
        delivery_status=DeliveryStatus.SENDING, updated_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    interaction = Interaction.objects.select_related("staff").get(pk=interaction_id)
    # Replies come back to the CRM's mailbox through the signed address when one is configured.
    signed = reply_address(interaction.thread_token)
    staff_email = interaction.staff.email if interaction.staff and interaction.staff.email else ""
    reply_to = [signed] if signed else [staff_email] if staff_email else []
    headers = {"Message-ID": interaction.message_id}
    if interaction.in_reply_to:
        headers["In-Reply-To"] = interaction.in_reply_to
        headers["References"] = interaction.references or interaction.in_reply_to
    message = EmailMessage(
        subject=subject_with_token(interaction.subject, interaction.thread_token),
        body=interaction.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[interaction.email_to],
        reply_to=reply_to,
        headers=headers,
    )
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        # OSError: the server is down or unreachable (connection refused, timeout, TLS failure);
        # ValueError: a header or address Django will not put in a message (BadHeaderError).
        reason = _smtp_reason(error)
        Interaction.objects.filter(pk=interaction_id).update(
            delivery_status=DeliveryStatus.FAILED,
            delivery_error=reason[:MAX_ERROR],
            updated_at=timezone.now(),
        )
        return "failed"
    Interaction.objects.filter(pk=interaction_id).update(
        delivery_status=DeliveryStatus.SENT, delivery_error="", updated_at=timezone.now()
    )
    return "sent"


def _smtp_reason(error: BaseException) -> str:
    """The mail server's answer in words a user can pass on ("550 mailbox unavailable")."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(answer)}" for address, (code, answer) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
