"""Admin for project-wide models: API tokens."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from crm_site.api import api_token_create, api_token_revoke
from crm_site.models import ApiToken
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
        fields = ["name", "user", "scopes"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["name", "prefix", "user", "scope_list", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    list_filter = ["revoked_at"]
    autocomplete_fields = ["user"]
    fields = ["name", "user", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = api_token_create(name=obj.name, user=obj.user, scopes=obj.scopes)
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
