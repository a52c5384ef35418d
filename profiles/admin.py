"""Managers' admin: events, runs (with resume), and read-only computed outputs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import VisibleAdminMixin
from profiles.labels import percent
from profiles.models import (
    AssociationRule,
    CustomerProfile,
    Event,
    ProfileChange,
    ProfileRun,
    RebuildLock,
    Segment,
)
from profiles.services import rebuild
from profiles.services.segments import segment_count, segment_create, segment_update


class ReadOnlyAdmin(admin.ModelAdmin):
    """Computed by the rebuild: viewable, never added, edited or deleted by hand (the retention job
    deletes old runs with their profiles and rules)."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ChurnBandFilter(admin.SimpleListFilter):
    """Churn bands by the risk range they hold ("60–70%"), not their stored number 0–9."""

    title = _("churn band")
    parameter_name = "churn_bucket"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(band), f"{band * 10}–{band * 10 + 10}%") for band in range(10)]

    def queryset(self, request: Any, queryset: Any) -> Any:
        value = self.value()
        if value is None or not value.isdigit():
            return queryset
        return queryset.filter(churn_bucket=int(value))


class RfmSegmentFilter(admin.SimpleListFilter):
    """RFM segments by their label, in the reader's language."""

    title = _("RFM segment")
    parameter_name = "rfm_segment"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        from profiles.pipeline.rfm import RFM_SEGMENT_LABELS

        return list(RFM_SEGMENT_LABELS.items())

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.filter(rfm_segment=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "event_type", "customer", "channel", "received_at")
    list_filter = ("event_type", "channel")
    list_select_related = ("customer",)
    search_fields = ("idempotency_key", "customer__name", "customer__external_id")
    autocomplete_fields = ("customer",)
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    readonly_fields = ("received_at",)


@admin.register(ProfileRun)
class ProfileRunAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "status",
        "is_active",
        "as_of",
        "trigger",
        "chunks_done",
        "chunks_total",
        "finished_at",
    )
    list_filter = ("status", "is_active", "trigger")
    list_select_related = ("requested_by",)
    search_fields = ("error",)
    actions = ["resume_runs", "start_rebuild"]
    readonly_fields = ("model_fit_summary",)

    @admin.display(description=_("Fitted models"))
    def model_fit_summary(self, obj: ProfileRun) -> str:
        """One line per model: what it was fitted on, log-likelihood, convergence, parameters ± SE."""
        lines = []
        for row in obj.model_fit_rows:
            report = row["report"]
            if report is None:
                lines.append(format_html("<li>{}: {}</li>", row["label"], _("not fitted")))
                continue
            parameters = ", ".join(
                f"{p['name']}={p['value']:.4g}" + (f" ± {p['se']:.2g}" if p["se"] is not None else "")
                for p in row["parameters"]
            )
            converged = {True: _("yes"), False: _("no")}.get(report.get("converged"), _("n/a"))
            lines.append(
                format_html(
                    "<li>{}: {} {}, {} {}, {} {}, {} {}{}</li>",
                    row["label"],
                    _("customers"),
                    report.get("n_customers"),
                    _("repeat transactions"),
                    report.get("n_repeat_transactions"),
                    _("log-likelihood"),
                    "–" if report.get("log_likelihood") is None else f"{report['log_likelihood']:.2f}",
                    _("converged"),
                    converged,
                    f"; {parameters}" if parameters else "",
                )
            )
        return (
            format_html("<ul>{}</ul>", format_html_join("", "{}", ((line,) for line in lines)))
            if lines
            else "–"
        )

    @admin.action(description=_("Resume or retry the selected runs"))
    def resume_runs(self, request: Any, queryset: Any) -> None:
        for run in queryset:
            try:
                rebuild.profile_rebuild_resume(run_id=run.pk)
            except rebuild.RebuildInProgress as error:
                self.message_user(request, str(error), messages.WARNING)
                return
        self.message_user(request, _("Resumed."), messages.SUCCESS)

    @admin.action(description=_("Start a new rebuild now"))
    def start_rebuild(self, request: Any, queryset: Any) -> None:
        try:
            rebuild.profile_rebuild_start(requested_by=request.user)
        except rebuild.RebuildInProgress as error:
            self.message_user(request, str(error), messages.WARNING)
            return
        self.message_user(request, _("Rebuild started."), messages.SUCCESS)


@admin.register(CustomerProfile)
class CustomerProfileAdmin(VisibleAdminMixin, ReadOnlyAdmin):
    list_display = (
        "customer",
        "rfm_segment_shown",
        "clv_12m",
        "churn_risk_shown",
        "p_alive_shown",
        "model_frequency",
        "model_recency_days",
        "model_age_days",
        "cluster_shown",
        "computed_at",
    )
    list_filter = ("run__is_active", RfmSegmentFilter, ChurnBandFilter)
    list_select_related = ("customer", "run")
    search_fields = ("customer__name", "customer__external_id")
    autocomplete_fields = ("customer",)
    show_full_result_count = False

    @admin.display(description=_("RFM segment"), ordering="rfm_segment")
    def rfm_segment_shown(self, obj: CustomerProfile) -> str:
        return obj.rfm_segment_label or "–"

    @admin.display(description=_("churn risk"), ordering="churn_risk")
    def churn_risk_shown(self, obj: CustomerProfile) -> str:
        return percent(obj.churn_risk)

    @admin.display(description=_("probability alive"), ordering="p_alive")
    def p_alive_shown(self, obj: CustomerProfile) -> str:
        return percent(obj.p_alive)

    @admin.display(description=_("cluster"), ordering="cluster_name")
    def cluster_shown(self, obj: CustomerProfile) -> str:
        from profiles.labels import cluster_label

        return cluster_label(obj.cluster_name) if obj.cluster_name else "–"


@admin.register(ProfileChange)
class ProfileChangeAdmin(VisibleAdminMixin, ReadOnlyAdmin):
    list_display = ("customer", "occurred_at", "kind", "change_shown", "source")
    list_filter = ("kind", "source")
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__external_id")
    autocomplete_fields = ("customer",)
    show_full_result_count = False

    @admin.display(description=_("change"))
    def change_shown(self, obj: ProfileChange) -> str:
        from profiles.labels import profile_change_text

        return profile_change_text(obj)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "member_count", "counted_at")
    list_filter = ("kind",)
    list_select_related = ("run",)
    search_fields = ("name", "key")
    readonly_fields = ("kind", "key", "member_count", "counted_at", "run", "created_by")
    actions = ["recount"]

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        # Automatic segments belong to the runs (segment_update refuses them): shown, never edited.
        if obj is not None and obj.kind != Segment.Kind.MANUAL:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: Any, obj: Segment, form: Any, change: bool) -> None:
        # Through the services, so a rule segment is validated and recounted as on the segment pages.
        data = form.cleaned_data
        if change:
            stored = Segment.objects.get(pk=obj.pk)  # not the form's instance, which already has the changes
            segment_update(
                segment=stored, name=data["name"], rule=data["rule"], description=data["description"]
            )
        else:
            created = segment_create(
                name=data["name"], rule=data["rule"], description=data["description"], created_by=request.user
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            obj._state.adding = False

    @admin.action(description=_("Recount members"))
    def recount(self, request: Any, queryset: Any) -> None:
        for segment in queryset:
            segment_count(segment=segment)
        self.message_user(request, _("Recounted."), messages.SUCCESS)


@admin.register(AssociationRule)
class AssociationRuleAdmin(ReadOnlyAdmin):
    list_display = ("antecedent_text", "consequent", "support_shown", "confidence_shown", "lift_shown", "run")
    list_filter = ("run__is_active",)
    list_select_related = ("run",)
    search_fields = ("antecedent_text", "consequent")
    show_full_result_count = False

    @admin.display(description=_("support"), ordering="support")
    def support_shown(self, obj: AssociationRule) -> str:
        return percent(obj.support, 1)

    @admin.display(description=_("confidence"), ordering="confidence")
    def confidence_shown(self, obj: AssociationRule) -> str:
        return percent(obj.confidence)

    @admin.display(description=_("lift"), ordering="lift")
    def lift_shown(self, obj: AssociationRule) -> str:
        return number_format(obj.lift, decimal_pos=2)


@admin.register(RebuildLock)
class RebuildLockAdmin(admin.ModelAdmin):
    list_display = ("name", "run", "expires_at")
    list_select_related = ("run",)
    search_fields = ("name",)
