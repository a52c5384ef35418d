"""The unmatched inbox: mail, calls and chats no customer's contact methods named, until staff place them.

Reads: ``unmatched_page`` (the open items the user may see, newest first, keyset pages) and
``unmatched_get``. Writes: ``unmatched_attach`` turns an item into an interaction of the chosen customer
(its text, quoted text, Message-ID and thread headers kept, its files moved over, the thread joined when
it answers one of that customer's mails), optionally remembering the sender's address or number as one of
the customer's contact methods so the next one matches by itself; ``unmatched_dismiss`` puts it away.
Each claims the item with one compare-and-set update, so two people handling it at once cannot both win.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic
from crm_site.paging import KeysetPage, keyset_page
from crm_site.visibility import CHANGE, VIEW, Action, allowed, visible_object_or_404
from customers.selectors import customer_has_contact
from customers.services import contact_method_save
from sessions_log.models import Attachment, Interaction, UnmatchedItem
from sessions_log.threads import thread_token_new

PAGE_SIZE = 25
BODY_MAX = 20_000
# The contact method kind an item's counterpart is remembered as, per channel (chat handles are not).
REMEMBER_KINDS: dict[str, str] = {
    Interaction.Channel.EMAIL: "email",
    Interaction.Channel.CALL: "phone",
    Interaction.Channel.SMS: "mobile",
    Interaction.Channel.WECHAT: "wechat",
}


def unmatched_page(*, user: Any, cursor: str | None = None, size: int = PAGE_SIZE) -> KeysetPage:
    """The open items ``user`` may see (received by them; all for Service and managers), newest first."""
    rows = UnmatchedItem.objects.visible_to(user).open().select_related("received_by")
    return keyset_page(rows, field="occurred_at", descending=True, kind="datetime", cursor=cursor, size=size)


def unmatched_get(*, user: Any, pk: Any, action: Action = VIEW) -> UnmatchedItem:
    return visible_object_or_404(
        UnmatchedItem.objects.select_related("received_by", "handled_by", "interaction"),
        user,
        action=action,
        pk=pk,
    )


def unmatched_files(*, item: UnmatchedItem, user: Any) -> list[Attachment]:
    return list(Attachment.objects.visible_to(user, within=item).order_by("created_at", "id"))


def remember_kind(item: UnmatchedItem) -> str:
    """The contact method kind the item's sender would be remembered as ("" when it cannot be)."""
    return REMEMBER_KINDS.get(item.channel, "") if item.counterpart else ""


def _claim(item: UnmatchedItem, *, status: str, user: Any) -> None:
    now = timezone.now()
    taken = UnmatchedItem.objects.filter(pk=item.pk, status=UnmatchedItem.Status.OPEN).update(
        status=status, handled_by=user, handled_at=now, updated_at=now
    )
    if not taken:
        raise ValidationError(_("Someone has already attached or dismissed this item."), code="handled")
    item.status, item.handled_by, item.handled_at = status, user, now


def _thread_root(item: UnmatchedItem, customer: Any) -> Interaction | None:
    """The first mail of the customer's thread the item answers (its In-Reply-To/References), if any."""
    ids = [item.in_reply_to, *reversed(item.references.split())]
    ids = [message_id for message_id in ids if message_id][:100]
    if item.channel != Interaction.Channel.EMAIL or not ids:
        return None
    parents = {
        row.message_id: row
        for row in Interaction.objects.filter(customer=customer, channel=item.channel, message_id__in=ids)
    }
    for message_id in ids:
        if (parent := parents.get(message_id)) is not None:
            return parent.thread if parent.thread_id else parent
    return None


@atomic
def unmatched_attach(*, item: UnmatchedItem, customer: Any, user: Any, remember: bool = False) -> Interaction:
    """Log the item as an interaction of ``customer`` (checked for ``user`` by the caller's form).

    ``remember``: also add the sender's address or number to the customer's contact methods (only for a
    user who may change that customer; a value the customer already has is not added twice).
    """
    kind = remember_kind(item)
    if remember and not kind:
        raise ValidationError({"remember": _("This sender's address or number cannot be kept as a contact.")})
    if remember and not allowed(user, customer, CHANGE):
        raise ValidationError(
            {"remember": _("You may not change this customer's contact methods: leave the box unticked.")}
        )
    _claim(item, status=UnmatchedItem.Status.ATTACHED, user=user)
    body, quoted = item.body, item.quoted_text
    if len(body) > BODY_MAX:
        body, quoted = body[:BODY_MAX], body[BODY_MAX:] + ("\n\n" + quoted if quoted else "")
    root = _thread_root(item, customer)
    interaction = Interaction(
        customer=customer,
        channel=item.channel,
        direction=item.direction,
        subject=item.subject,
        body=body,
        quoted_text=quoted[:200_000],
        occurred_at=item.occurred_at,
        duration_seconds=item.duration_seconds,
        outcome=item.outcome,
        staff=user,
        counterpart=item.counterpart,
        recording_url=item.recording_url,
        transcript=item.transcript,
        message_id=item.message_id,
        in_reply_to=item.in_reply_to,
        references=item.references,
        mail_account=item.mail_account,
        thread=root,
    )
    if item.channel == Interaction.Channel.EMAIL:
        interaction.thread_token = (root.thread_token if root is not None else "") or thread_token_new()
    interaction.full_clean()
    interaction.save()
    Attachment.objects.filter(unmatched=item).update(unmatched=None, interaction=interaction)
    UnmatchedItem.objects.filter(pk=item.pk).update(interaction=interaction)
    item.interaction = interaction
    if remember and not customer_has_contact(customer=customer, kind=kind, value=item.counterpart):
        try:
            contact_method_save(customer=customer, kind=kind, value=item.counterpart)
        except ValidationError as error:
            raise ValidationError({"remember": error.messages}) from error
    return interaction


@atomic
def unmatched_dismiss(*, item: UnmatchedItem, user: Any) -> None:
    """Put the item away (spam, a wrong number): it leaves the inbox, nothing is logged on a customer."""
    _claim(item, status=UnmatchedItem.Status.DISMISSED, user=user)
