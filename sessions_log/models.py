"""Interactions (one conversation or contact with a customer, on any channel) and follow-ups."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_site.models import BaseModel
from crm_site.visibility import VisibleQuerySet

# A call or visit longer than a working day is a typo, not a conversation.
MAX_DURATION_SECONDS = 12 * 3600


class InteractionQuerySet(VisibleQuerySet):
    # Visible with the customer only (the customer rule): who logged it, or is assigned a follow-up, sees
    # it while they see the customer; after a reassignment, an unshare or a merge into a customer they
    # cannot see, the row would otherwise name that customer and stay writable.
    visibility_via = ("customer",)


class DeliveryStatus(models.TextChoices):
    """An outgoing email's state: queued in the request, then sent or failed by ``tasks.email_send``."""

    NONE = "", _("—")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Interaction(BaseModel):
    """One contact with a customer: a call, an email, a chat, a visit, a note..."""

    class Channel(models.TextChoices):
        CALL = "call", pgettext_lazy("channel", "Phone call")
        EMAIL = "email", pgettext_lazy("channel", "Email")
        CHAT = "chat", pgettext_lazy("channel", "Online chat")
        VISIT = "visit", pgettext_lazy("channel", "Visit")
        SMS = "sms", pgettext_lazy("channel", "SMS")
        WECHAT = "wechat", pgettext_lazy("channel", "WeChat")
        MEETING = "meeting", pgettext_lazy("channel", "Meeting")
        NOTE = "note", pgettext_lazy("channel", "Note")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        INTERNAL = "internal", _("Internal")

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        INTERESTED = "interested", _("Interested")
        NOT_INTERESTED = "not_interested", _("Not interested")
        COMPLAINT = "complaint", _("Complaint")
        RESOLVED = "resolved", _("Resolved")
        CALL_BACK = "call_back", _("Asked to call back")

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("customer"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("notes"), blank=True, max_length=20_000)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(
        _("duration (seconds)"), null=True, blank=True, validators=[MaxValueValidator(MAX_DURATION_SECONDS)]
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    place = models.CharField(
        _("place"), max_length=200, blank=True, help_text=_("Where a visit or meeting was.")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    sales_order = models.ForeignKey(
        "orders.SalesOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("sales order"),
    )  # fmt: skip
    service_order = models.ForeignKey(
        "orders.ServiceOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("ticket"),
    )  # fmt: skip
    project = models.ForeignKey(
        "orders.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("project"),
    )  # fmt: skip
    # Email sent from the CRM (sessions_log.mail): where to, the Message-ID it carries (replies thread on
    # it), and whether the mail server took it.
    email_to = models.EmailField(_("sent to"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    delivery_status = models.CharField(
        _("delivery"), max_length=10, choices=DeliveryStatus.choices, blank=True
    )
    delivery_error = models.CharField(_("delivery error"), max_length=500, blank=True)
    # The other side as the channel named it: the phone number of a call, the address of a mail.
    counterpart = models.CharField(_("number or address"), max_length=254, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    # A chat's messages, oldest first: [{"at": ISO time, "speaker": "agent"|"customer"|name, "text": ...}].
    transcript = models.JSONField(_("transcript"), default=list, blank=True)
    # Email threads (sessions_log.mail_in): the first mail of a thread is its root (thread is None there);
    # every reply points at the root. thread_token is the short code in "[CRM-...]" subjects and in the
    # signed reply-to address, the fallbacks when a provider rewrites Message-ID or drops References.
    thread = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies",
        verbose_name=_("thread"),
    )  # fmt: skip
    thread_token = models.CharField(_("thread code"), max_length=16, blank=True, db_index=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True, max_length=20_000)
    # The quoted history and signature folded away from ``body`` ("show quoted text").
    quoted_text = models.TextField(_("quoted text"), blank=True, max_length=200_000)
    mail_account = models.ForeignKey(
        "sessions_log.MailAccount", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("mailbox"),
    )  # fmt: skip

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The customer timeline's keyset stream: newest first within one customer.
            models.Index(fields=["customer", "occurred_at", "id"]),
            models.Index(fields=["staff", "occurred_at"]),
            # The API's list (GET /api/v1/interactions/ without a customer): newest first over everyone's,
            # a keyset page read off the index instead of sorting the whole table.
            models.Index(fields=["occurred_at", "id"], name="interaction_time_id"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.subject or self.customer_id}"

    def get_absolute_url(self) -> str:
        return reverse("sessions_log:interaction-detail", args=[self.pk])

    @property
    def duration_minutes(self) -> int | None:
        return None if self.duration_seconds is None else round(self.duration_seconds / 60)

    def clean(self) -> None:
        if self.occurred_at and self.occurred_at > timezone.now() + timedelta(days=1):
            raise ValidationError(
                {"occurred_at": _("An interaction cannot be logged more than a day ahead.")}
            )


class FollowUpQuerySet(VisibleQuerySet):
    visibility_via = ("customer",)  # as interactions: with the customer only

    def open(self) -> FollowUpQuerySet:
        return self.filter(status=FollowUp.Status.OPEN)


class FollowUp(BaseModel):
    """Something to do for a customer by a due time: call back, send the quote, visit..."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("customer")
    )
    interaction = models.ForeignKey(
        Interaction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("interaction"),
    )
    title = models.CharField(_("what to do"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("follows on from"),
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["customer", "status", "due_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()


class CannedReply(BaseModel):
    """A reusable email text (subject and body) with placeholders such as ``{customer_name}``."""

    class Language(models.TextChoices):
        EN = "en", "English"
        ZH_HANS = "zh-hans", "简体中文"

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.EN)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(
        _("body"),
        max_length=20_000,
        help_text=_(
            "Placeholders: {customer_name}, {staff_name}, {staff_email}, {today}. "
            "Anything else in braces is left as it is."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["language", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="canned_reply_name_language")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_language_display()})"


class UnmatchedItemQuerySet(VisibleQuerySet):
    # Who received it (the mailbox owner, the API token's user) sees it; Service and managers see the whole
    # inbox (``sessions_log.view_all_unmatcheditem`` / ``change_all_unmatcheditem``, crm_site/roles.py).
    visibility_owners = ("received_by",)

    def open(self) -> UnmatchedItemQuerySet:
        return self.filter(status=UnmatchedItem.Status.OPEN)


class UnmatchedItem(BaseModel):
    """A mail, call or chat from a sender no customer's contact methods name: waits for staff to attach it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting")
        ATTACHED = "attached", _("Attached to a customer")
        DISMISSED = "dismissed", _("Dismissed")

    channel = models.CharField(_("channel"), max_length=10, choices=Interaction.Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Interaction.Direction.choices,
        default=Interaction.Direction.INBOUND,
    )  # fmt: skip
    counterpart = models.CharField(_("number or address"), max_length=254, blank=True, db_index=True)
    counterpart_name = models.CharField(_("name given"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True, max_length=200_000)
    quoted_text = models.TextField(_("quoted text"), blank=True, max_length=200_000)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(
        _("duration (seconds)"), null=True, blank=True, validators=[MaxValueValidator(MAX_DURATION_SECONDS)]
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Interaction.Outcome.choices, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    transcript = models.JSONField(_("transcript"), default=list, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True, max_length=20_000)
    mail_account = models.ForeignKey(
        "sessions_log.MailAccount", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("mailbox"),
    )  # fmt: skip
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("received by"),
    )  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    interaction = models.ForeignKey(
        Interaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("logged as"),
    )  # fmt: skip
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("handled by"),
    )  # fmt: skip
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    objects = UnmatchedItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("unmatched item")
        verbose_name_plural = _("unmatched items")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["status", "occurred_at"])]
        permissions = [
            ("view_all_unmatcheditem", _("Can view every unmatched item")),
            ("change_all_unmatcheditem", _("Can attach or dismiss every unmatched item")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.counterpart or '?'} · {self.subject}"


class ExternalReference(BaseModel):
    """The id another system gave a record it pushed, per API token: the same id twice is stored once."""

    class Kind(models.TextChoices):
        CALL = "call", pgettext_lazy("channel", "Phone call")
        CHAT = "chat", pgettext_lazy("channel", "Online chat")
        INTERACTION = "interaction", _("interaction")

    token = models.ForeignKey(
        "crm_site.ApiToken", on_delete=models.CASCADE, related_name="+", verbose_name=_("API token")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    external_id = models.CharField(_("external id"), max_length=100)
    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("interaction"),
    )  # fmt: skip
    unmatched = models.ForeignKey(
        UnmatchedItem, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("unmatched item"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("external reference")
        verbose_name_plural = _("external references")
        constraints = [
            models.UniqueConstraint(fields=["token", "kind", "external_id"], name="external_reference_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.external_id}"


class AttachmentQuerySet(VisibleQuerySet):
    # With what it is attached to: the interaction (so its customer) or the unmatched item.
    visibility_via: tuple[str, ...] = ("interaction", "unmatched")


class Attachment(BaseModel):
    """A file on an interaction (or on an unmatched mail until it is attached), kept in Django's storage."""

    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments",
        verbose_name=_("interaction"),
    )  # fmt: skip
    unmatched = models.ForeignKey(
        UnmatchedItem, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments",
        verbose_name=_("unmatched item"),
    )  # fmt: skip
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=300)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("uploaded by"),
    )  # fmt: skip

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sessions_log:attachment-download", args=[self.pk])


class MailAccount(BaseModel):
    """An IMAP mailbox the CRM reads (``fetch_mail``, a periodic task); its password is in the environment."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("IMAP host"), max_length=200)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_ssl = models.BooleanField(_("use TLS"), default=True)
    username = models.CharField(_("user name"), max_length=200)
    password_env = models.CharField(
        _("password variable"),
        max_length=100,
        help_text=_("The name of the environment variable that holds the password (never the password)."),
    )
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("staff member"),
        help_text=_("Mail read here is logged as received by this staff member."),
    )  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    last_uid = models.PositiveBigIntegerField(_("last message read"), default=0, editable=False)
    uid_validity = models.PositiveBigIntegerField(_("UIDVALIDITY"), default=0, editable=False)
    last_fetched_at = models.DateTimeField(_("last read"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, editable=False)
    # The read in progress (sessions_log.mail_in.account_lock): taken by a compare-and-set update, so two
    # runs never read the same mailbox at once; a worker that died leaves a lock that expires by itself.
    lock_token = models.CharField(_("being read by"), max_length=36, blank=True, editable=False)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MailFetchRun(BaseModel):
    """One read of a mailbox or a file: how many messages, where they went, each problem with its reason."""

    account = models.ForeignKey(
        MailAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="runs",
        verbose_name=_("mailbox"),
    )  # fmt: skip
    source = models.CharField(_("source"), max_length=300, help_text=_("The mailbox, or the file read."))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    read = models.PositiveIntegerField(_("read"), default=0)
    matched = models.PositiveIntegerField(_("matched to a customer"), default=0)
    unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    duplicates = models.PositiveIntegerField(_("already stored"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    # [{"message": UID or position or Message-ID, "reason": "..."}], at most MAX_PROBLEMS kept.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("mail fetch run")
        verbose_name_plural = _("mail fetch runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.source} · {self.started_at:%Y-%m-%d %H:%M}"


class DigestSent(BaseModel):
    """The morning digest a staff member got on a day: one per user per day, however often the task runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("staff member")
    )
    day = models.DateField(_("day"))
    items = models.PositiveIntegerField(_("items"), default=0)

    class Meta:
        verbose_name = _("follow-up digest sent")
        verbose_name_plural = _("follow-up digests sent")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_per_day")]

    def __str__(self) -> str:
        return f"{self.user} · {self.day}"
