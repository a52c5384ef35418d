"""Managers' admin for every customers model; bulk actions call the services."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import VisibleAdminMixin
from customers.admin_pii import PiiFields, PiiMaskedAdminMixin, mask_snapshot
from customers.masking import mask_contact
from customers.models import (
    Address,
    ContactMethod,
    Customer,
    CustomerImport,
    CustomerMerge,
    CustomerShare,
    CustomerTag,
    CustomerTeamShare,
    CustomFieldDefinition,
    Partner,
    PartnerContact,
    Relationship,
    Tag,
)
from customers.normalize import candidate_hashes
from customers.selectors.pii import can_see_pii
from customers.services import customer_assign_owner, customer_set_consent
from customers.services.merge import snapshot_open

CONTACT_VALUE: PiiFields = {"value": (None, _("value"))}
# What staff without view_pii may search contacts and addresses by (issue 13 review: no personal value).
CUSTOMER_SEARCH = ("customer__name", "customer__external_id")
ADDRESS_PII: PiiFields = {"street": ("street", _("street")), "postal_code": ("postal_code", _("postal code"))}
PHONE_EMAIL: PiiFields = {"phone": ("phone", _("phone")), "email": ("email", _("email"))}


class ContactMethodInline(PiiMaskedAdminMixin, admin.TabularInline):
    pii_fields = CONTACT_VALUE
    template = "admin/customers/tabular_pii.html"
    model = ContactMethod
    extra = 0
    fields = ["kind", "value", "is_primary", "is_verified", "do_not_contact"]


class AddressInline(PiiMaskedAdminMixin, admin.TabularInline):
    pii_fields = ADDRESS_PII
    template = "admin/customers/tabular_pii.html"
    model = Address
    extra = 0


class CustomerShareInline(admin.TabularInline):
    model = CustomerShare
    extra = 0
    autocomplete_fields = ["user"]


class CustomerTagInline(admin.TabularInline):
    model = CustomerTag
    extra = 0
    autocomplete_fields = ["tag"]


class BlindIndexSearchMixin:
    """Admin search also matching a whole phone/email/WeChat value through its blind index (the values
    are encrypted, issue 13: no SQL lookup reads them). Not for staff who see values masked: an exact match
    would confirm a guessed number behind a masked one."""

    hash_lookup = "value_hash"

    def get_search_results(self, request: Any, queryset: Any, search_term: str) -> Any:
        results, may_have_duplicates = super().get_search_results(  # type: ignore[misc]
            request, queryset, search_term
        )
        if can_see_pii(request.user) and (hashes := candidate_hashes(search_term)):
            results = results | queryset.filter(**{f"{self.hash_lookup}__in": hashes})
            may_have_duplicates = True
        return results, may_have_duplicates


@admin.register(Customer)
class CustomerAdmin(BlindIndexSearchMixin, PiiMaskedAdminMixin, VisibleAdminMixin, admin.ModelAdmin):
    pii_fields: PiiFields = {
        "birth_date": ("birth_date", _("birth date")),
        "id_number": ("id_number", _("ID number")),
    }
    masked_search_fields = ("name", "company_name", "external_id")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "kind", "lifecycle_stage", "source", "owner", "created_at"]
    list_filter = ["lifecycle_stage", "source", "kind", "marketing_consent"]
    search_fields = ["name", "company_name", "external_id"]
    hash_lookup = "contact_methods__value_hash"
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    show_full_result_count = False
    readonly_fields = ["consent_changed_at", "created_at", "updated_at"]
    inlines = [ContactMethodInline, AddressInline, CustomerTagInline, CustomerShareInline]
    actions = ["assign_to_me", "record_consent_withdrawn"]
    date_hierarchy = None

    @admin.action(description=_("Make me the owner of the selected customers"))
    def assign_to_me(self, request: Any, queryset: Any) -> None:
        count = customer_assign_owner(customer_ids=queryset.values_list("pk", flat=True), owner=request.user)
        self.message_user(request, _("%(n)s customers reassigned.") % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("Record that marketing consent was withdrawn (by phone)"))
    def record_consent_withdrawn(self, request: Any, queryset: Any) -> None:
        for customer in queryset[:1000]:
            customer_set_consent(customer=customer, consent=False, channel=Customer.ConsentChannel.PHONE)
        self.message_user(request, _("Consent withdrawal recorded."), messages.SUCCESS)


@admin.register(ContactMethod)
class ContactMethodAdmin(BlindIndexSearchMixin, PiiMaskedAdminMixin, admin.ModelAdmin):
    pii_fields = CONTACT_VALUE
    masked_search_fields = CUSTOMER_SEARCH

    def masked_name(self, obj: ContactMethod) -> str | None:
        return f"{obj.get_kind_display()}: {mask_contact(obj.kind, obj.value)}"

    list_display = ["value", "kind", "customer", "is_primary", "is_verified", "do_not_contact"]
    list_filter = ["kind", "is_primary", "is_verified", "do_not_contact"]
    search_fields = ["customer__name"]
    sortable_by = ["kind", "customer", "is_primary", "is_verified", "do_not_contact"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    show_full_result_count = False


@admin.register(Address)
class AddressAdmin(PiiMaskedAdminMixin, admin.ModelAdmin):
    pii_fields = ADDRESS_PII
    masked_search_fields = ("city", *CUSTOMER_SEARCH)

    def masked_name(self, obj: Address) -> str | None:
        return ", ".join(part for part in ("***", obj.district, obj.city, obj.province) if part)

    list_display = ["customer", "province", "city", "district", "is_default"]
    list_filter = ["is_default", "province"]
    search_fields = ["city", "district"]  # street and postal code are encrypted
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]


@admin.register(CustomerTag)
class CustomerTagAdmin(admin.ModelAdmin):
    list_display = ["customer", "tag"]
    list_filter = ["tag"]
    search_fields = ["tag__name"]
    list_select_related = ["customer", "tag"]
    autocomplete_fields = ["customer", "tag"]
    show_full_result_count = False


@admin.register(CustomerShare)
class CustomerShareAdmin(admin.ModelAdmin):
    list_display = ["customer", "user", "created_at"]
    search_fields = ["user__username"]
    list_filter = ["user"]
    list_select_related = ["customer", "user"]
    autocomplete_fields = ["customer", "user"]


@admin.register(CustomerTeamShare)
class CustomerTeamShareAdmin(admin.ModelAdmin):
    list_display = ["customer", "group", "created_at"]
    search_fields = ["group__name"]
    list_filter = ["group"]
    list_select_related = ["customer", "group"]
    autocomplete_fields = ["customer", "group"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "kind", "city", "owner", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "email", "phone"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]


@admin.register(PartnerContact)
class PartnerContactAdmin(PiiMaskedAdminMixin, admin.ModelAdmin):
    pii_fields = PHONE_EMAIL
    list_display = ["name", "partner", "phone", "email"]
    search_fields = ["name", "email", "phone"]
    list_filter = ["partner__kind"]
    list_select_related = ["partner"]
    autocomplete_fields = ["partner"]


@admin.register(Relationship)
class RelationshipAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "related_customer", "partner"]
    list_filter = ["kind"]
    search_fields = ["note"]
    list_select_related = ["customer", "related_customer", "partner"]
    autocomplete_fields = ["customer", "related_customer", "partner"]
    show_full_result_count = False


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "field_type", "required", "filterable", "is_active", "position"]
    list_filter = ["field_type", "is_active", "required"]
    search_fields = ["label", "key"]
    list_editable = ["position", "is_active"]


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ["merged_customer_name", "survivor_name", "merged_by", "created_at"]
    search_fields = ["merged_customer_name", "survivor_name", "=merged_customer_id"]
    list_filter = ["created_at"]
    list_select_related = ["survivor", "merged_by"]
    autocomplete_fields = ["survivor", "merged_by"]
    readonly_fields = [f.name for f in CustomerMerge._meta.fields]

    # The loser's snapshot holds its contact values, birth date, ID number and streets, stored encrypted:
    # shown decrypted, and masked for staff without customers.view_pii_customer (issue 13 review).
    def get_fields(self, request: Any, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        shown = [name for name in fields if name != "snapshot_shown"]
        return ["snapshot_shown" if name == "snapshot" else name for name in shown]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "snapshot_shown"]

    def get_object(self, request: Any, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.viewer_sees_pii = can_see_pii(request.user)
        return obj

    @admin.display(description=_("snapshot"))
    def snapshot_shown(self, obj: CustomerMerge) -> str:
        snapshot = snapshot_open(obj.snapshot)
        if not getattr(obj, "viewer_sees_pii", False):
            snapshot = mask_snapshot(snapshot)
        text = json.dumps(snapshot, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    # The audit trail (and the merged customers' redirects) is written by customer_merge only: managers
    # read it, nobody adds, edits or deletes a row by hand.
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(CustomerImport)
class CustomerImportAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ["original_name", "status", "total_rows", "error_count", "created_by", "created_at"]
    list_filter = ["status", "file_format"]
    search_fields = ["original_name"]
    list_select_related = ["created_by"]
    autocomplete_fields = ["created_by"]
    readonly_fields = ["errors", "headers"]


from customers import admin_consent  # noqa: E402,F401  (the consent ledger, read-only)
