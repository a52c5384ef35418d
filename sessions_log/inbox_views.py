"""Pages of the unmatched inbox (/interactions/inbox/): the list, one item, attach to a customer, dismiss."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from crm_site.visibility import CHANGE, allowed
from crm_site.web import ActionView, StaffMixin, error_text, form_add_errors
from sessions_log import inbox
from sessions_log.forms import UnmatchedAttachForm
from sessions_log.models import UnmatchedItem

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class UnmatchedListView(StaffMixin, TemplateView):
    """The open items the user may see, newest first, 25 a page (keyset cursors, never a count)."""

    permission_required = "sessions_log.view_unmatcheditem"
    template_name = "sessions_log/unmatched_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        page = inbox.unmatched_page(user=self.request.user, cursor=self.request.GET.get("cursor") or None)
        return super().get_context_data(page=page, **kwargs)


def _detail_context(
    request: HttpRequest, item: UnmatchedItem, form: UnmatchedAttachForm | None
) -> dict[str, Any]:
    user = request.user
    can_handle = (
        item.status == UnmatchedItem.Status.OPEN
        and user.has_perm("sessions_log.change_unmatcheditem")
        and user.has_perm("sessions_log.add_interaction")
        and allowed(user, item, CHANGE)
    )
    if can_handle and form is None:
        form = UnmatchedAttachForm(user=user, item=item, can_remember=bool(inbox.remember_kind(item)))
    return {
        "item": item,
        "files": inbox.unmatched_files(item=item, user=user),
        "form": form if can_handle else None,
        "can_handle": can_handle,
    }


class UnmatchedDetailView(StaffMixin, View):
    permission_required = "sessions_log.view_unmatcheditem"
    template_name = "sessions_log/unmatched_detail.html"

    def get(self, request: HttpRequest, pk: Any) -> HttpResponse:
        item = inbox.unmatched_get(user=request.user, pk=pk)
        return render(request, self.template_name, _detail_context(request, item, None))


class UnmatchedAttachView(StaffMixin, View):
    """POST: log the item on the chosen customer; an unclear customer comes back as choices (no JS)."""

    permission_required = ("sessions_log.change_unmatcheditem", "sessions_log.add_interaction")
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        item = inbox.unmatched_get(user=request.user, pk=pk, action=CHANGE)
        form = UnmatchedAttachForm(
            request.POST, user=request.user, item=item, can_remember=bool(inbox.remember_kind(item))
        )
        if form.is_valid():
            try:
                interaction = inbox.unmatched_attach(
                    item=item,
                    customer=form.cleaned_data["customer"],
                    user=request.user,
                    remember=bool(form.cleaned_data.get("remember")),
                )
            except ValidationError as error:
                item.refresh_from_db(fields=["status"])
                if item.status != UnmatchedItem.Status.OPEN:  # handled by someone else meanwhile
                    messages.error(request, error_text(error))
                    return HttpResponseRedirect(reverse("sessions_log:unmatched-detail", args=[item.pk]))
                form_add_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Attached to %(customer)s.") % {"customer": interaction.customer.name},
                )
                return HttpResponseRedirect(interaction.get_absolute_url())
        return render(request, UnmatchedDetailView.template_name, _detail_context(request, item, form))


class UnmatchedDismissView(StaffMixin, ActionView):
    permission_required = "sessions_log.change_unmatcheditem"

    def get_target(self) -> UnmatchedItem:
        return inbox.unmatched_get(user=self.request.user, pk=self.kwargs["pk"], action=CHANGE)

    def perform(self, target: UnmatchedItem, data: dict[str, Any]) -> StrOrPromise:
        inbox.unmatched_dismiss(item=target, user=self.request.user)
        return _("Dismissed.")

    def get_success_url(self, target: UnmatchedItem) -> str:
        return reverse("sessions_log:unmatched-list")
