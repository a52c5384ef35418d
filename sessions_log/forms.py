"""Forms of the sessions log: one short quick-log form per channel, follow-up actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, cast

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm_site.forms import DateBoundsMixin
from customers.forms import CustomerChoiceField
from sessions_log.attachments import MAX_PER_INTERACTION, accept_attribute, uploads_check
from sessions_log.models import MAX_DURATION_SECONDS, FollowUp, Interaction
from sessions_log.services import MAX_CHAIN_DAYS, MAX_SNOOZE_HOURS, FollowUpPlan

Channel = Interaction.Channel

# The fields each channel's quick form asks for (besides the follow-up): short, as a call is logged
# while the phone is still warm. Every channel has subject and notes.
CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    Channel.CALL: ("direction", "outcome", "duration_minutes", "subject", "body"),
    Channel.VISIT: ("place", "outcome", "duration_minutes", "subject", "body"),
    Channel.CHAT: ("direction", "outcome", "subject", "body"),
    Channel.EMAIL: ("direction", "subject", "body"),
    Channel.SMS: ("direction", "body"),
    Channel.WECHAT: ("direction", "outcome", "body"),
    Channel.MEETING: ("place", "duration_minutes", "subject", "body"),
    Channel.NOTE: ("subject", "body"),
}
QUICK_CHANNELS = (Channel.CALL, Channel.VISIT, Channel.CHAT, Channel.EMAIL, Channel.NOTE)
FOLLOW_UP_FIELDS = ("follow_up_title", "follow_up_due")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to MAX_PER_INTERACTION files in one input (Django's multiple-file pattern): a list, each file
    checked by ``sessions_log.attachments`` (every bad file named in one error). ``already`` is how many
    the interaction has."""

    def __init__(self, *args: Any, already: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept_attribute()}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.already = already

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        uploads = [upload for upload in (data if isinstance(data, list | tuple) else [data]) if upload]
        if not uploads and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        uploads_check(uploads, already=self.already)
        return uploads


def attachments_field(**kwargs: Any) -> AttachmentsField:
    return AttachmentsField(
        label=_("Files"),
        help_text=_("Up to %(max)s files: documents, images, text, archives.") % {"max": MAX_PER_INTERACTION},
        **kwargs,
    )


class QuickLogForm(DateBoundsMixin, forms.Form):
    """Log one interaction of ``channel``; fill "Next step" to schedule its follow-up in the same go."""

    direction = forms.ChoiceField(
        label=_("Direction"), choices=Interaction.Direction.choices, initial="outbound"
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Interaction.Outcome.choices, required=False)
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, max_value=MAX_DURATION_SECONDS // 60
    )
    place = forms.CharField(label=_("Place"), required=False, max_length=200)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(
        label=_("Notes"), required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 2})
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    follow_up_title = forms.CharField(label=_("Next step"), required=False, max_length=200)
    follow_up_due = forms.DateTimeField(
        label=_("Next step due"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    attachments = attachments_field()

    def __init__(self, *args: Any, channel: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"log-{channel}")
        super().__init__(*args, **kwargs)
        self.channel = channel
        keep = set(CHANNEL_FIELDS[channel]) | {"occurred_at", *FOLLOW_UP_FIELDS, "attachments"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label)

    def clean_occurred_at(self) -> Any:
        when = self.cleaned_data.get("occurred_at")
        if when is not None and when > timezone.now() + timedelta(days=1):
            raise ValidationError(_("An interaction cannot be logged more than a day ahead."))
        return when

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        title, due = cleaned.get("follow_up_title"), cleaned.get("follow_up_due")
        if title and due is None and "follow_up_due" not in self.errors:
            self.add_error("follow_up_due", _("Give the next step a due time."))
        if due is not None and not title:
            self.add_error("follow_up_title", _("Say what the next step is."))
        if not (cleaned.get("subject") or cleaned.get("body")):
            self.add_error("body" if "body" in self.fields else "subject", _("Write what was said or done."))
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned values as ``interaction_log`` keywords."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {
            "channel": self.channel,
            "subject": data.get("subject", ""),
            "body": data.get("body", ""),
            "occurred_at": data.get("occurred_at"),
        }
        if "direction" in self.fields:
            kwargs["direction"] = data["direction"]
        elif self.channel == Channel.NOTE:
            kwargs["direction"] = Interaction.Direction.INTERNAL
        for name in ("outcome", "place"):
            if name in self.fields:
                kwargs[name] = data.get(name) or ""
        if data.get("duration_minutes") is not None:
            kwargs["duration_seconds"] = data["duration_minutes"] * 60
        if data.get("follow_up_title") and data.get("follow_up_due"):
            kwargs["follow_up"] = FollowUpPlan(title=data["follow_up_title"], due_at=data["follow_up_due"])
        return kwargs


class AttachmentAddForm(forms.Form):
    """More files on an existing interaction (``already``: the files it has; at most MAX_PER_INTERACTION)."""

    def __init__(self, *args: Any, already: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"] = attachments_field(already=already, required=True)


@dataclass(frozen=True)
class QuickLogEntry:
    """One channel's empty quick-log form as the customer page shows it (``html``: its rendered fields)."""

    channel: str
    channel_label: str
    html: str


@lru_cache(maxsize=64)
def _empty_form_html(channel: str, language: str) -> str:
    # ``language`` is only the cache key: the active language, which the rendering reads.
    return str(as_crispy_form(QuickLogForm(channel=channel)))


def quick_log_forms() -> list[QuickLogEntry]:
    """The customer page's empty quick-log forms, each rendered once per channel and language per
    process: an empty form's fields are the same for every customer and every request, and rendering
    the five with crispy-forms was 40% of the customer page's CPU time at 1,000,000 customers
    (docs/benchmarks.md). The page adds the CSRF token around them."""
    language = get_language() or ""
    return [
        QuickLogEntry(
            channel=channel,
            channel_label=str(Channel(channel).label),
            html=mark_safe(_empty_form_html(channel, language)),  # noqa: S308 - crispy's own escaped output
        )
        for channel in QUICK_CHANNELS
    ]


class FollowUpDoneForm(forms.Form):
    next_in_days = forms.IntegerField(
        label=_("Next one in (days)"), required=False, min_value=1, max_value=MAX_CHAIN_DAYS
    )
    next_title = forms.CharField(label=_("Next step"), required=False, max_length=200)


class FollowUpSnoozeForm(forms.Form):
    hours = forms.IntegerField(label=_("Snooze (hours)"), min_value=1, max_value=MAX_SNOOZE_HOURS)


class FollowUpRescheduleForm(DateBoundsMixin, forms.Form):
    due_at = forms.DateTimeField(
        label=_("New due time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=FollowUp.Priority.choices)


class EmailComposeForm(forms.Form):
    """An email to one of the customer's addresses (``contacts``: its email contact methods)."""

    to = forms.ChoiceField(label=_("To"))
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Message"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 12}))

    def __init__(self, *args: Any, contacts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contacts = {str(contact.pk): contact for contact in contacts}
        cast(forms.ChoiceField, self.fields["to"]).choices = [
            (
                str(contact.pk),
                _("%(address)s (do not contact)") % {"address": contact.value}
                if contact.do_not_contact
                else contact.value,
            )
            for contact in contacts
        ]

    def clean_to(self) -> Any:
        # The choices are this customer's addresses: a forged id is "not one of the available choices".
        return self.contacts[self.cleaned_data["to"]]


class CannedReplyPickForm(forms.Form):
    """GET form of the compose page: fill subject and message from a canned reply (works without JS)."""

    canned = forms.ChoiceField(label=_("Canned reply"), required=False)

    def __init__(self, *args: Any, replies: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replies = {str(reply.pk): reply for reply in replies}
        cast(forms.ChoiceField, self.fields["canned"]).choices = [("", _("— choose —"))] + [
            (str(reply.pk), str(reply)) for reply in replies
        ]

    def reply(self) -> Any:
        """The chosen canned reply, or None (nothing chosen, or an id that is not an active reply)."""
        if not self.is_valid():
            return None
        return self.replies.get(self.cleaned_data.get("canned") or "")


class UnmatchedAttachForm(forms.Form):
    """Attach an unmatched item to a customer the user may see, optionally keeping the sender as a contact."""

    customer = CustomerChoiceField()
    remember = forms.BooleanField(required=False)

    def __init__(self, *args: Any, user: Any, item: Any, can_remember: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(CustomerChoiceField, self.fields["customer"]).user = user
        if can_remember:
            self.fields["remember"].label = _(
                "Remember %(value)s as one of this customer's contact methods"
            ) % {"value": item.counterpart}
        else:
            del self.fields["remember"]
