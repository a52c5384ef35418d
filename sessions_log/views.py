"""Pages of the sessions log: the staff member's recent interactions and follow-ups, quick logging,
an interaction's page, and the follow-up actions (done, snooze, reschedule, cancel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import DetailView, FormView, TemplateView

from crm_site.visibility import CHANGE, sees_everything
from crm_site.web import ActionView, StaffMixin, form_add_errors, safe_next
from customers.selectors import customer_email_addresses, customer_get
from sessions_log import attachments, mail, selectors, services
from sessions_log.forms import (
    CHANNEL_FIELDS,
    AttachmentAddForm,
    CannedReplyPickForm,
    EmailComposeForm,
    FollowUpDoneForm,
    FollowUpRescheduleForm,
    FollowUpSnoozeForm,
    QuickLogForm,
)
from sessions_log.models import Attachment, DeliveryStatus, FollowUp, Interaction

if TYPE_CHECKING:
    from django.forms import BaseForm
    from django_stubs_ext import StrOrPromise


def agenda_sections(agenda: selectors.FollowUpAgenda) -> list[tuple[Any, list[FollowUp]]]:
    return [(_("Overdue"), agenda.overdue), (_("Today"), agenda.today), (_("Upcoming"), agenda.upcoming)]


class InteractionIndexView(StaffMixin, TemplateView):
    """/interactions/: what I logged lately and what I have to do."""

    permission_required = "sessions_log.view_interaction"
    template_name = "sessions_log/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        return super().get_context_data(
            interactions=selectors.interactions_recent(user=user),
            agenda_sections=agenda_sections(selectors.follow_up_agenda(user=user)),
            **kwargs,
        )


class InteractionDetailView(StaffMixin, DetailView):
    permission_required = "sessions_log.view_interaction"
    template_name = "sessions_log/interaction_detail.html"
    context_object_name = "interaction"

    def get_object(self, queryset: Any = None) -> Interaction:
        return selectors.interaction_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        files = selectors.interaction_attachments(interaction=self.object, user=user)
        return super().get_context_data(
            thread=selectors.interaction_thread(interaction=self.object, user=user),
            attachments=files,
            attachment_form=AttachmentAddForm(already=len(files)),
            attachments_full=len(files) >= attachments.MAX_PER_INTERACTION,
            can_add_files=user.has_perm("sessions_log.add_attachment"),
            can_remove_files=user.has_perm("sessions_log.change_attachment"),
            **kwargs,
        )


class FileUploadMixin:
    """POST views that take files: the attachment upload handler goes first (a too-big file is a form
    error, its bytes past the limit never kept). Handlers can only change before the body is read, and
    the CSRF check reads it, so the view is CSRF-exempt and checks CSRF itself after (Django's pattern
    for per-view upload handlers); subclasses carry ``@method_decorator(csrf_exempt, name="dispatch")``."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.upload_handlers = [attachments.AttachmentUploadHandler(request), *request.upload_handlers]
        parent = super().post  # type: ignore[misc]
        return csrf_protect(lambda request, *args, **kwargs: parent(request, *args, **kwargs))(
            request, *args, **kwargs
        )


@method_decorator(csrf_exempt, name="dispatch")
class InteractionLogView(FileUploadMixin, StaffMixin, ActionView):
    """POST from a customer page's quick-log form: one interaction, its follow-up and files when given."""

    permission_required = "sessions_log.add_interaction"
    request: HttpRequest

    def get_target(self) -> Any:
        if self.kwargs["channel"] not in CHANNEL_FIELDS:
            raise Http404
        # Logging is reading plus writing an interaction: whoever sees the customer may log against it.
        return customer_get(user=self.request.user, pk=self.kwargs["customer_pk"])

    def get_form(self, target: Any) -> BaseForm:
        self.form = QuickLogForm(self.request.POST, self.request.FILES, channel=self.kwargs["channel"])
        return self.form

    def perform(self, target: Any, data: dict[str, Any]) -> StrOrPromise:
        _interaction, follow_up = attachments.interaction_log_with_files(
            uploads=data.get("attachments") or [],
            customer=target,
            staff=self.request.user,
            **self.form.service_kwargs(),
        )
        if follow_up is not None:
            return _("Logged, with a follow-up due %(due)s.") % {
                "due": follow_up.due_at.strftime("%Y-%m-%d %H:%M")
            }
        return _("Logged.")

    def get_success_url(self, target: Any) -> str:
        return target.get_absolute_url() + "#interactions"

    def json_extra(self, target: Any) -> dict[str, Any]:
        """The panel's latest interactions and open follow-ups, for the script to swap in."""
        user = self.request.user
        html = render_to_string(
            "sessions_log/includes/_latest.html",
            {
                "interactions": selectors.customer_interactions(customer=target, user=user),
                "follow_ups": selectors.customer_open_follow_ups(customer=target, user=user),
            },
            request=self.request,
        )
        return {"html": html}


@method_decorator(csrf_exempt, name="dispatch")
class AttachmentAddView(FileUploadMixin, StaffMixin, ActionView):
    """POST from an interaction's page: more files on it (whoever may change its customer)."""

    permission_required = "sessions_log.add_attachment"

    def get_target(self) -> Interaction:
        return selectors.interaction_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def get_form(self, target: Interaction) -> BaseForm:
        return AttachmentAddForm(self.request.POST, self.request.FILES, already=target.attachments.count())

    def perform(self, target: Interaction, data: dict[str, Any]) -> StrOrPromise:
        added = attachments.attachments_add(
            interaction=target, uploads=data["attachments"], user=self.request.user
        )
        return ngettext("%(count)s file added.", "%(count)s files added.", len(added)) % {"count": len(added)}


class AttachmentDeleteView(StaffMixin, ActionView):
    """POST: remove a file (``attachments.attachment_may_delete``: the uploader, owner or a manager)."""

    permission_required = "sessions_log.change_attachment"

    def get_target(self) -> Attachment:
        return selectors.attachment_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, target: Attachment, data: dict[str, Any]) -> StrOrPromise:
        attachments.attachment_delete(attachment=target, user=self.request.user)
        return _("“%(name)s” removed.") % {"name": target.name}

    def get_success_url(self, target: Attachment) -> str:
        if target.interaction is not None:
            return target.interaction.get_absolute_url()
        return reverse("sessions_log:index")


class AttachmentDownloadView(StaffMixin, View):
    """GET: the file, to whoever may see what it is attached to (404 for anyone else, as for a missing
    one). Always a download, never shown inline: the browser must not sniff or run it."""

    permission_required = "sessions_log.view_attachment"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FileResponse:
        attachment = selectors.attachment_get(user=request.user, pk=kwargs["pk"])
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(
            handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        patch_cache_control(response, private=True, max_age=300)
        return response


class FollowUpListView(StaffMixin, TemplateView):
    """My follow-ups: overdue, today, upcoming. Managers have a second tab, their team's."""

    permission_required = "sessions_log.view_followup"
    template_name = "sessions_log/follow_up_list.html"
    team = False

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        agenda = selectors.follow_up_agenda(user=user, team=self.team)
        return super().get_context_data(
            agenda_sections=agenda_sections(agenda),
            team=self.team,
            can_see_team=sees_everything(user),
            **kwargs,
        )


class FollowUpTeamView(FollowUpListView):
    """The Team tab: the open follow-ups of the manager's team, with who has each (others get 403)."""

    team = True

    def has_permission(self) -> bool:
        return super().has_permission() and sees_everything(self.request.user)


class FollowUpActionView(StaffMixin, ActionView):
    permission_required = "sessions_log.change_followup"

    def get_target(self) -> FollowUp:
        return selectors.follow_up_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def get_success_url(self, target: FollowUp) -> str:
        return safe_next(self.request, reverse("sessions_log:follow-up-list"))  # the Team tab sends it


class FollowUpDoneView(FollowUpActionView):
    form_class = FollowUpDoneForm

    def perform(self, target: FollowUp, data: dict[str, Any]) -> StrOrPromise:
        following = services.follow_up_done(
            follow_up=target, by=self.request.user, next_in_days=data.get("next_in_days"),
            next_title=data.get("next_title") or "",
        )  # fmt: skip
        if following is not None:
            return _("Done. Next one due %(due)s.") % {"due": following.due_at.strftime("%Y-%m-%d")}
        return _("Done.")


class FollowUpSnoozeView(FollowUpActionView):
    form_class = FollowUpSnoozeForm

    def perform(self, target: FollowUp, data: dict[str, Any]) -> StrOrPromise:
        services.follow_up_snooze(follow_up=target, hours=data["hours"])
        return _("Snoozed.")


class FollowUpRescheduleView(FollowUpActionView):
    form_class = FollowUpRescheduleForm

    def perform(self, target: FollowUp, data: dict[str, Any]) -> StrOrPromise:
        services.follow_up_update(follow_up=target, due_at=data["due_at"], priority=data["priority"])
        return _("Rescheduled.")


class FollowUpCancelView(FollowUpActionView):
    def perform(self, target: FollowUp, data: dict[str, Any]) -> StrOrPromise:
        services.follow_up_cancel(follow_up=target)
        return _("Cancelled.")


class EmailComposeView(StaffMixin, FormView):
    """/interactions/email/<customer>/: write an email to one of the customer's addresses, optionally from
    a canned reply (``?canned=<id>`` fills subject and message, placeholders rendered); sending logs it
    as an outbound email interaction and delivers it after commit."""

    permission_required = "sessions_log.add_interaction"
    template_name = "sessions_log/email_compose.html"
    form_class = EmailComposeForm

    @cached_property
    def customer(self) -> Any:
        # Writing to a customer is reading it plus logging an interaction: whoever sees it may write.
        return customer_get(user=self.request.user, pk=self.kwargs["customer_pk"])

    @cached_property
    def contacts(self) -> list[Any]:
        return customer_email_addresses(customer=self.customer)

    @cached_property
    def replying_to(self) -> Interaction | None:
        """The customer's email this one answers (``?reply=<id>``): it then threads under it."""
        pk = self.request.GET.get("reply")
        if not pk:
            return None
        try:
            replied = selectors.interaction_get(user=self.request.user, pk=pk)
        except ValidationError as error:  # not an id
            raise Http404 from error
        if replied.customer_id != self.customer.pk or replied.channel != Interaction.Channel.EMAIL:
            raise Http404
        return replied

    @cached_property
    def pick_form(self) -> CannedReplyPickForm:
        replies = selectors.canned_replies(language=get_language() or "")
        return CannedReplyPickForm(self.request.GET or None, replies=replies)

    @cached_property
    def rendered(self) -> mail.Rendered | None:
        reply = self.pick_form.reply() if self.request.method == "GET" else None
        if reply is None:
            return None
        return mail.canned_reply_render(reply=reply, customer=self.customer, staff=self.request.user)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "contacts": self.contacts}

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        writable = [contact for contact in self.contacts if not contact.do_not_contact]
        if writable:
            initial["to"] = str(writable[0].pk)
        if self.replying_to is not None:
            subject = self.replying_to.subject
            initial["subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        if self.rendered is not None:
            initial.update(subject=self.rendered.subject, body=self.rendered.body)
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            customer=self.customer,
            replying_to=self.replying_to,
            pick_form=self.pick_form,
            unknown_placeholders=self.rendered.unknown if self.rendered else (),
            placeholders=mail.PLACEHOLDERS,
            **kwargs,
        )

    def form_valid(self, form: Any) -> HttpResponse:
        data = form.cleaned_data
        try:
            interaction = mail.email_compose(
                customer=self.customer, staff=self.request.user, contact=data["to"],
                subject=data["subject"], body=data["body"], reply_to=self.replying_to,
            )  # fmt: skip
        except ValidationError as error:
            form_add_errors(form, error)
            return self.form_invalid(form)
        # Without a broker the send ran at commit, in this request: say how it went.
        interaction.refresh_from_db(fields=["delivery_status", "delivery_error"])
        if interaction.delivery_status == DeliveryStatus.SENT:
            messages.success(self.request, _("Email sent to %(to)s.") % {"to": interaction.email_to})
        elif interaction.delivery_status == DeliveryStatus.FAILED:
            messages.error(
                self.request,
                _("The mail server did not take the email to %(to)s: %(reason)s. It is logged as failed.")
                % {"to": interaction.email_to, "reason": interaction.delivery_error},
            )
        else:
            messages.info(
                self.request, _("Email to %(to)s queued for sending.") % {"to": interaction.email_to}
            )
        return HttpResponseRedirect(interaction.get_absolute_url())
