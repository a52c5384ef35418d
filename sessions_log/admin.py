"""Managers' admin of interactions and follow-ups (scoped by the visibility rule like every admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import VisibleAdminMixin
from customers.admin_pii import PiiFields, PiiMaskedAdminMixin
from customers.masking import mask_counterpart
from sessions_log.models import (
    Attachment,
    CannedReply,
    DigestSent,
    ExternalReference,
    FollowUp,
    Interaction,
    MailAccount,
    MailFetchRun,
    UnmatchedItem,
)

# The number or address on the other side, masked for staff without customers.view_pii_customer.
COUNTERPART: PiiFields = {"counterpart": ("counterpart", _("number or address"))}


def unmatched_masked_name(item: UnmatchedItem | None) -> str:
    """An unmatched item's str() with its number or address masked."""
    if item is None:
        return ""
    return f"{item.get_channel_display()} · {mask_counterpart(item.counterpart) or '?'} · {item.subject}"


# An attachment's or external reference's unmatched item is named by its str(), which holds the counterpart.
UNMATCHED: PiiFields = {"unmatched": (unmatched_masked_name, _("unmatched item"))}


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    fk_name = "interaction"
    extra = 0
    fields = ("title", "due_at", "assignee", "priority", "status")
    autocomplete_fields = ("assignee",)
    show_change_link = True


class AttachmentColumns:
    """The download link (the visibility rule, served as a download; never the storage's own URL) and
    the size in words."""

    @admin.display(description=_("file"))
    def file_link(self, obj: Attachment) -> str:
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.name)

    @admin.display(description=_("size"), ordering="size")
    def file_size(self, obj: Attachment) -> str:
        return filesizeformat(obj.size)


class AttachmentInline(AttachmentColumns, admin.TabularInline):
    """The interaction's files, read-only (they are added through the site's forms and mail in)."""

    model = Attachment
    fk_name = "interaction"
    extra = 0
    fields = ("file_link", "content_type", "file_size", "uploaded_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(PiiMaskedAdminMixin, AttachmentColumns, VisibleAdminMixin, admin.ModelAdmin):
    """Every file on interactions and unmatched items (read-only; removing one deletes its stored file)."""

    pii_fields = UNMATCHED

    list_display = (
        "name", "file_link", "content_type", "file_size", "interaction", "unmatched", "uploaded_by",
        "created_at",
    )  # fmt: skip
    list_filter = ("content_type",)
    list_select_related = ("interaction", "unmatched", "uploaded_by")
    search_fields = ("name",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "file_link", "name", "content_type", "file_size", "interaction", "unmatched", "uploaded_by",
        "created_at",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Interaction)
class InteractionAdmin(PiiMaskedAdminMixin, VisibleAdminMixin, admin.ModelAdmin):
    pii_fields: PiiFields = {**COUNTERPART, "email_to": ("counterpart", _("sent to"))}
    list_display = ("occurred_at", "channel", "direction", "customer", "subject", "outcome", "staff")
    list_filter = ("channel", "direction", "outcome", "delivery_status")
    list_select_related = ("customer", "staff")
    search_fields = ("subject", "customer__name", "customer__external_id")
    autocomplete_fields = ("customer", "staff", "sales_order", "service_order", "project")
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    readonly_fields = ("email_to", "message_id", "delivery_status", "delivery_error")
    inlines = [FollowUpInline, AttachmentInline]


@admin.register(FollowUp)
class FollowUpAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("due_at", "title", "customer", "assignee", "priority", "status", "done_at")
    list_filter = ("status", "priority")
    list_select_related = ("customer", "assignee")
    search_fields = ("title", "customer__name")
    autocomplete_fields = ("customer", "assignee", "created_by", "interaction", "previous")
    date_hierarchy = "due_at"
    show_full_result_count = False
    readonly_fields = ("done_at",)


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    """Canned replies for email out, one per name and language (placeholders: see the body's help)."""

    list_display = ("name", "language", "subject", "is_active", "updated_at")
    list_filter = ("language", "is_active")
    search_fields = ("name", "subject", "body")


@admin.register(DigestSent)
class DigestSentAdmin(admin.ModelAdmin):
    """Who got the morning digest on which day (read-only: the digest task writes it)."""

    list_display = ("day", "user", "items", "created_at")
    list_filter = ("day",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    date_hierarchy = "day"
    show_full_result_count = False

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ExternalReference)
class ExternalReferenceAdmin(PiiMaskedAdminMixin, admin.ModelAdmin):
    """The ids other systems gave the calls, chats and interactions they pushed, per API token (read-only:
    the API writes them; a second record with the same id is answered as a duplicate)."""

    pii_fields = UNMATCHED

    list_display = ("external_id", "kind", "token", "interaction", "unmatched", "created_at")
    list_filter = ("kind",)
    list_select_related = ("token", "interaction", "unmatched")
    search_fields = ("external_id", "token__name", "token__prefix")
    show_full_result_count = False
    readonly_fields = ("token", "kind", "external_id", "interaction", "unmatched", "created_at")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(MailAccount)
class MailAccountAdmin(admin.ModelAdmin):
    """The IMAP mailboxes ``fetch_mail`` and the beat task read (passwords stay in the environment)."""

    list_display = ("name", "username", "host", "port", "folder", "owner", "is_active", "last_fetched_at",
                    "last_error")  # fmt: skip
    list_filter = ("is_active",)
    list_select_related = ("owner",)
    search_fields = ("name", "username", "host")
    autocomplete_fields = ("owner",)
    readonly_fields = ("last_uid", "uid_validity", "last_fetched_at", "last_error", "locked_until")
    actions = ["check_connection", "read_now"]

    @admin.action(description=_("Test the connection (log in, open the folder)"))
    def check_connection(self, request: Any, queryset: Any) -> None:
        from sessions_log.mail_in import mail_account_check

        for account in queryset:
            problem = mail_account_check(account=account)
            if problem:
                self.message_user(request, f"{account.name}: {problem}", level="error")
            else:
                self.message_user(request, _("%(name)s: connected.") % {"name": account.name})

    @admin.action(description=_("Read new mail now"))
    def read_now(self, request: Any, queryset: Any) -> None:
        from sessions_log.mail_in import mail_fetch_account

        for account in queryset:
            run = mail_fetch_account(account=account)
            if run is None:
                self.message_user(request, _("%(name)s is being read right now.") % {"name": account.name})
            elif run.error:
                self.message_user(request, f"{account.name}: {run.error}", level="error")
            else:
                self.message_user(
                    request,
                    _("%(name)s: %(read)s read, %(matched)s on customers, %(unmatched)s to the inbox.")
                    % {
                        "name": account.name,
                        "read": run.read,
                        "matched": run.matched,
                        "unmatched": run.unmatched,
                    },
                )


@admin.register(MailFetchRun)
class MailFetchRunAdmin(admin.ModelAdmin):
    """What each read of a mailbox or file found, with every problem's reason (read-only)."""

    list_display = ("started_at", "source", "read", "matched", "unmatched", "duplicates", "failed", "error")
    list_filter = ("account",)
    list_select_related = ("account",)
    search_fields = ("source", "error")
    date_hierarchy = "started_at"
    show_full_result_count = False

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(UnmatchedItem)
class UnmatchedItemAdmin(PiiMaskedAdminMixin, VisibleAdminMixin, admin.ModelAdmin):
    pii_fields = COUNTERPART
    masked_search_fields = ("subject",)

    def masked_name(self, obj: UnmatchedItem) -> str | None:
        return unmatched_masked_name(obj)

    list_display = ("occurred_at", "channel", "counterpart", "subject", "status", "received_by", "handled_by")
    list_filter = ("status", "channel")
    list_select_related = ("received_by", "handled_by")
    search_fields = ("counterpart", "counterpart_name", "subject", "message_id")
    autocomplete_fields = ("received_by", "handled_by", "interaction")
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    readonly_fields = ("message_id", "in_reply_to", "references", "mail_account", "handled_at")
