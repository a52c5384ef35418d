"""Pages of the profiles module: dashboard, portraits, segments (with CSV export) and profile runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin, UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from crm_site.exports import csv_lines, csv_response
from crm_site.listing import bind, errors_text, list_filters, page_query
from crm_site.paging import CountFreePaginator
from crm_site.uploads import DEFAULT_ENCODING
from crm_site.visibility import sees_everything
from crm_site.web import ActionView, form_add_errors
from profiles import selectors
from profiles.forms import EventImportForm, MemberFilterForm, RebuildForm, SegmentForm
from profiles.presenters import portrait_explained, run_quality
from profiles.rules import describe_rule
from profiles.services.events import events_import_csv
from profiles.services.rebuild import RebuildInProgress, end_of_day, profile_rebuild_start
from profiles.services.segments import segment_create, segment_delete, segment_update

PAGE_SIZE = 25


class ManagerRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Managers only (others get 403): rebuilds, rule segments and imports change what everyone sees."""

    request: HttpRequest

    def test_func(self) -> bool:
        return sees_everything(self.request.user)


class RoleRequiredMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """The model permission of the role (docs/roles.md); a signed-in user without it gets 403."""

    raise_exception = True


class DashboardView(RoleRequiredMixin, TemplateView):
    permission_required = "profiles.view_customerprofile"
    template_name = "profiles/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(selectors.dashboard_data(user=self.request.user))
        context["runs"] = selectors.run_list(limit=10)
        context["is_manager"] = sees_everything(self.request.user)
        context["rebuild_form"] = RebuildForm()
        return context


class ProfileDetailView(RoleRequiredMixin, TemplateView):
    """One customer's full portrait (404 for customers the user may not see)."""

    permission_required = "profiles.view_customerprofile"

    template_name = "profiles/profile_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        profile = selectors.customer_profile_get(user=self.request.user, customer_id=kwargs["customer_pk"])
        weekdays = [
            _("Monday"),
            _("Tuesday"),
            _("Wednesday"),
            _("Thursday"),
            _("Friday"),
            _("Saturday"),
            _("Sunday"),
        ]
        context.update(
            profile=profile,
            run=profile.run,
            card={
                "profile": profile,
                "run": profile.run,
                "customer": profile.customer,
                "explained": portrait_explained(profile=profile, run=profile.run),
            },
            weekday=weekdays[profile.preferred_weekday] if profile.preferred_weekday is not None else None,
        )
        return context


class SegmentListView(RoleRequiredMixin, TemplateView):
    permission_required = "profiles.view_segment"
    template_name = "profiles/segment_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["segments"] = list(selectors.segment_list())
        context["is_manager"] = sees_everything(self.request.user)
        context["run"] = selectors.active_run()
        return context


class SegmentDetailView(RoleRequiredMixin, TemplateView):
    permission_required = "profiles.view_segment"
    template_name = "profiles/segment_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        segment = selectors.segment_get(pk=kwargs["pk"])
        run = selectors.active_run()
        form = bind(MemberFilterForm, self.request.GET)
        filters = list_filters(form)
        members = selectors.segment_members(segment=segment, user=self.request.user, run=run, filters=filters)
        # An invalid filter lists nothing (the form shows why) instead of silently listing everyone.
        if filters is None:
            members = members.none()
        page = CountFreePaginator(members, PAGE_SIZE).get_page(self.request.GET.get("page"))
        params = {key: value for key, value in self.request.GET.items() if key != "page" and value}
        context.update(
            segment=segment,
            run=run,
            form=form,
            page_obj=page,
            members=page.object_list,
            page_query=page_query(self.request.GET),
            export_query=urlencode(params),
            rule_lines=describe_rule(segment.rule),
            is_manager=sees_everything(self.request.user),
        )
        return context


class SegmentExportView(RoleRequiredMixin, View):
    """The (filtered) members the user may see, streamed as CSV."""

    permission_required = "profiles.view_segment"

    def get(self, request: HttpRequest, pk: Any) -> StreamingHttpResponse:
        segment = selectors.segment_get(pk=pk)
        form = bind(MemberFilterForm, request.GET)
        filters = list_filters(form)
        if filters is None:
            return HttpResponseBadRequest(  # type: ignore[return-value]
                _("These filters could not be used: %(errors)s") % {"errors": errors_text(form)},
                content_type="text/plain",
            )
        members = selectors.segment_members(segment=segment, user=request.user, filters=filters)
        header = [
            "customer_id", "customer", "rfm_segment", "r", "f", "m", "clv_12m", "p_alive", "churn_risk",
            "cluster", "next_best_offers", "preferred_channel", "region",
        ]  # fmt: skip
        rows = (
            [
                p.customer_id, p.customer.name, p.rfm_segment, p.r_score, p.f_score, p.m_score,
                p.clv_12m, p.p_alive, p.churn_risk, p.cluster_name,
                "|".join(p.next_best_offers or []), p.preferred_channel, p.region,
            ]
            for p in members.iterator(chunk_size=2000)
        )  # fmt: skip
        stamp = timezone.localtime().strftime("%Y%m%d")
        return csv_response(csv_lines(header, rows), filename=f"segment-{segment.pk}-{stamp}.csv")


class SegmentCreateView(RoleRequiredMixin, FormView):
    """Managers and marketing write the manual segments (``profiles.add_segment``)."""

    permission_required = "profiles.add_segment"
    template_name = "profiles/segment_form.html"
    form_class = SegmentForm

    def form_valid(self, form: SegmentForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            segment = segment_create(
                name=data["name"],
                rule=data["rule"],
                description=data["description"],
                created_by=self.request.user,
            )
        except ValidationError as error:
            form_add_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Segment saved: %(n)s members.") % {"n": segment.member_count})
        return redirect("profiles:segment-detail", pk=segment.pk)


class SegmentUpdateView(RoleRequiredMixin, FormView):
    permission_required = "profiles.change_segment"
    template_name = "profiles/segment_form.html"
    form_class = SegmentForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.segment = selectors.segment_get(pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["initial"] = {"name": self.segment.name, "description": self.segment.description}
        kwargs["initial_rule"] = self.segment.rule
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(segment=self.segment, **kwargs)

    def form_valid(self, form: SegmentForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            segment_update(
                segment=self.segment, name=data["name"], rule=data["rule"], description=data["description"]
            )
        except ValidationError as error:
            if error.code != "automatic":
                form_add_errors(form, error)
                return self.form_invalid(form)
            messages.error(self.request, " ".join(error.messages))
            return redirect("profiles:segment-detail", pk=self.segment.pk)
        messages.success(self.request, _("Segment saved: %(n)s members.") % {"n": self.segment.member_count})
        return redirect("profiles:segment-detail", pk=self.segment.pk)


class SegmentDeleteView(RoleRequiredMixin, ActionView):
    """POST only: delete a manual segment (its members are customers; none of them is touched)."""

    permission_required = "profiles.delete_segment"
    deleted = False

    def get_target(self) -> Any:
        return selectors.segment_get(pk=self.kwargs["pk"])

    def perform(self, target: Any, data: dict[str, Any]) -> str:
        name = target.name
        segment_delete(segment=target)
        self.deleted = True
        return _("Segment %(name)s deleted.") % {"name": name}

    def get_success_url(self, target: Any) -> str:
        if self.deleted:
            return reverse("profiles:segment-list")
        return reverse("profiles:segment-detail", args=[target.pk])


class RebuildView(ManagerRequiredMixin, FormView):
    """POST starts a rebuild and shows its progress page."""

    form_class = RebuildForm
    template_name = "profiles/rebuild_form.html"

    def form_valid(self, form: RebuildForm) -> HttpResponse:
        day = form.cleaned_data.get("as_of")
        try:
            run = profile_rebuild_start(
                as_of=end_of_day(day) if day else None, requested_by=self.request.user
            )
        except RebuildInProgress as error:
            messages.warning(self.request, str(error))
            return redirect("profiles:index")
        return redirect("profiles:run-detail", pk=run.pk)


# What the cleaning step dropped (profiles.pipeline.clean), by input and reason, for the run page.
CLEANING_SOURCES = {"events_dropped": gettext_lazy("events"), "orders_dropped": gettext_lazy("order lines")}
CLEANING_REASONS = {
    "missing_customer": gettext_lazy("No customer"),
    "missing_order": gettext_lazy("No order"),
    "missing_type": gettext_lazy("No event type"),
    "invalid_timestamp": gettext_lazy("Unusable timestamp (missing, unreadable or before 1677)"),
    "invalid_properties": gettext_lazy("Properties not an object"),
    "invalid_numbers": gettext_lazy("Negative or non-numeric amount, quantity or price"),
    "missing_exchange_rate": gettext_lazy("No exchange rate into the base currency on the order's day"),
    "invalid_amount": gettext_lazy("Missing, negative or infinite amount"),
    "invalid_quantity": gettext_lazy("Zero or negative quantity"),
    "search_without_query": gettext_lazy("Search without a query"),
    "before_history_start": gettext_lazy("Before the history start"),
    "future": gettext_lazy("After the as-of date"),
    "duplicates": gettext_lazy("Duplicates"),
    "bot_bursts": gettext_lazy("Bot bursts"),
}


def cleaning_rows(cleaning: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's drop counts per input, non-zero reasons only, labelled (unknown keys shown as stored)."""
    rows = []
    for key, reasons in (cleaning or {}).items():
        if not isinstance(reasons, dict):
            continue
        rows.append(
            {
                "key": key,
                "label": CLEANING_SOURCES.get(key, key),
                "reasons": [
                    {"key": reason, "label": CLEANING_REASONS.get(reason, reason), "count": count}
                    for reason, count in reasons.items()
                    if count
                ],
            }
        )
    return rows


class RunDetailView(ManagerRequiredMixin, TemplateView):
    template_name = "profiles/run_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = selectors.run_get(pk=kwargs["pk"])
        context.update(run=run, rules=selectors.rules_of(run=run, limit=15))
        context["cleaning"] = cleaning_rows(run.cleaning)
        context["history_start"] = ((run.fitted or {}).get("params") or {}).get("history_start")
        context["progress_url"] = reverse("profiles:run-progress", kwargs={"pk": run.pk})
        context["quality"] = run_quality(run=run)
        return context


class RunProgressView(ManagerRequiredMixin, View):
    def get(self, request: HttpRequest, pk: Any) -> JsonResponse:
        run = selectors.run_get(pk=pk)
        return JsonResponse(
            {
                "status": run.status,
                "status_label": str(run.get_status_display()),
                "percent": run.progress_percent,
                "chunks_done": run.chunks_done,
                "chunks_total": run.chunks_total,
                "finished": run.is_finished,
                "error": run.error.splitlines()[-1] if run.error else "",
            }
        )


class EventImportView(ManagerRequiredMixin, FormView):
    template_name = "profiles/event_import.html"
    form_class = EventImportForm

    def form_valid(self, form: EventImportForm) -> HttpResponse:
        try:
            result = events_import_csv(
                file=form.cleaned_data["file"],
                user=self.request.user,
                encoding=form.cleaned_data.get("encoding") or DEFAULT_ENCODING,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Imported %(stored)s events (%(duplicates)s already known).")
            % {"stored": result.stored, "duplicates": result.duplicates},
        )
        return redirect("profiles:index")
