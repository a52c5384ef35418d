"""Admin for project-wide models: API tokens; the beat schedules' change page made to work on MongoDB."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from crm_site.api import api_token_create, api_token_revoke, default_token_expiry
from crm_site.audit import admin as _audit_admin  # noqa: F401  (the trail, read-only)
from crm_site.models import ApiToken, RetentionRun
from crm_site.security import admin as _security_admin  # noqa: F401  (second factors: reset)


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=ApiToken.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("What a system holding this token may do through the API (docs/api.md)."),
    )

    class Meta:
        model = ApiToken
        fields = ["name", "user", "scopes", "expires_at"]
        help_texts = {
            "expires_at": _("Past this moment the token is refused. Empty: it never expires."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding and "expires_at" in self.fields:
            self.fields["expires_at"].initial = default_token_expiry()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = [
        "name",
        "prefix",
        "user",
        "scope_list",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    list_filter = ["revoked_at", "expires_at"]
    autocomplete_fields = ["user"]
    fields = ["name", "user", "scopes", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = api_token_create(
            name=obj.name, user=obj.user, scopes=obj.scopes, expires_at=obj.expires_at
        )
        obj.pk, obj.prefix, obj.key_hash = token.pk, token.prefix, token.key_hash
        obj._state.adding = False
        messages.warning(request, _("Copy this key now; it is not shown again: %(key)s") % {"key": key})

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiToken) -> str:
        return ", ".join(obj.scopes or []) or "—"

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)
        messages.success(request, _("Tokens revoked."))


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    """django-celery-beat's own admin, with the crontab texts its change page embeds keyed by text.

    Its ``changeform_view`` puts ``{crontab.id: text}`` through ``json_script``; on MongoDB the ids are
    ObjectIds, which JSON refuses as keys, so managers could not open a schedule to change it (500). The
    page's script looks the texts up by the select's value, which is text on every backend.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "readable_crontabs": {str(c.pk): c.human_readable for c in CrontabSchedule.objects.all()},
        }
        # Skip the parent's version (it would overwrite the texts with ObjectId keys).
        return admin.ModelAdmin.changeform_view(self, request, object_id, form_url, extra_context)


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    """The retention purge's runs and counts (crm_site.retention), on the record: nobody edits them."""

    list_display = ["started_at", "finished_at", "status", "count_summary"]
    list_filter = ["status"]
    fields = ["started_at", "finished_at", "status", "counts", "error"]
    readonly_fields = ["started_at", "finished_at", "status", "counts", "error"]
    show_full_result_count = False

    @admin.display(description=_("records purged or anonymised"))
    def count_summary(self, obj: RetentionRun) -> str:
        counts = obj.counts if isinstance(obj.counts, dict) else {}
        return ", ".join(f"{kind}: {found.get('count', 0)}" for kind, found in sorted(counts.items())) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
