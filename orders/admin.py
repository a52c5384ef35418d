"""Admin for the orders module (managers): big tables skip full counts; actions call services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import VisibleAdminMixin
from orders.models import (
    ExchangeRate,
    Milestone,
    Opportunity,
    OrderImport,
    OrderLine,
    Product,
    ProductCategory,
    Project,
    ProjectMember,
    SalesOrder,
    ServiceOrder,
    StatusChange,
)
from orders.services.catalog import product_category_create, product_category_update
from orders.services.sales import sales_order_transition
from orders.services.tickets import service_orders_flag_breaches


@admin.register(ProductCategory)
class ProductCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent", "root")
    list_select_related = ("parent", "root")
    search_fields = ("name", "code")
    list_filter = ("root",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("root",)

    def save_model(self, request: Any, obj: ProductCategory, form: Any, change: bool) -> None:
        # Through the services, so a moved category takes its whole subtree to the new top level.
        if change:
            product_category_update(category=obj, name=obj.name, parent=obj.parent, code=obj.code)
        else:
            created = product_category_create(name=obj.name, parent=obj.parent, code=obj.code)
            obj.pk, obj.root_id = created.pk, created.root_id


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "unit_price", "currency", "active")
    list_select_related = ("category",)
    search_fields = ("sku", "name")
    list_filter = ("active", "currency", "category__root")
    autocomplete_fields = ("category",)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    autocomplete_fields = ("product", "category")
    readonly_fields = ("line_total",)


class StatusChangeInline(admin.TabularInline):
    """The status history, read-only: only the workflow services write it."""

    model = StatusChange
    extra = 0
    fields = ("changed_at", "from_status", "to_status", "changed_by")
    readonly_fields = fields
    can_delete = False
    ordering = ("changed_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SalesOrderStatusInline(StatusChangeInline):
    fk_name = "sales_order"


class ServiceOrderStatusInline(StatusChangeInline):
    fk_name = "service_order"


def _transition_action(status: str, label: Any) -> Any:
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for order in queryset:
            try:
                sales_order_transition(order=order, status=status, by=request.user)
                done += 1
            except ValidationError as error:
                modeladmin.message_user(request, " ".join(error.messages), messages.WARNING)
        modeladmin.message_user(request, _("%(count)d orders updated.") % {"count": done})

    action.__name__ = f"mark_{status}"
    action.short_description = label  # type: ignore[attr-defined]
    return action


@admin.register(SalesOrder)
class SalesOrderAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("number", "customer", "status", "channel", "ordered_at", "total", "currency", "owner")
    list_select_related = ("customer", "owner")
    search_fields = ("number", "customer__name", "customer__external_id")
    list_filter = ("status", "channel", "currency", "ordered_at")
    date_hierarchy = "ordered_at"
    autocomplete_fields = ("customer", "owner")
    readonly_fields = ("subtotal", "total", "status")
    show_full_result_count = False
    inlines = [OrderLineInline, SalesOrderStatusInline]
    actions = [
        _transition_action("paid", _("Mark selected orders paid")),
        _transition_action("shipped", _("Mark selected orders shipped")),
        _transition_action("completed", _("Mark selected orders completed")),
        _transition_action("cancelled", _("Cancel selected orders")),
    ]


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ("order", "sku", "category", "quantity", "unit_price", "discount", "line_total")
    list_select_related = ("order", "category")
    search_fields = ("order__number", "sku")
    list_filter = ("category__root",)
    autocomplete_fields = ("order", "product", "category")
    show_full_result_count = False


@admin.register(ServiceOrder)
class ServiceOrderAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "subject",
        "customer",
        "type",
        "priority",
        "status",
        "sla_due_at",
        "sla_breached",
        "assignee",
    )
    list_select_related = ("customer", "assignee")
    search_fields = ("number", "subject", "customer__name")
    list_filter = ("status", "priority", "type", "sla_breached")
    autocomplete_fields = ("customer", "owner", "assignee")
    # The status moves through the ticket page's workflow (its rules and its history), not this form.
    readonly_fields = ("status", "sla_due_at", "sla_breached", "resolved_at")
    show_full_result_count = False
    inlines = [ServiceOrderStatusInline]
    actions = ["flag_breaches"]

    @admin.action(description=_("Flag SLA breaches now (all open tickets)"))
    def flag_breaches(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = service_orders_flag_breaches()
        self.message_user(request, _("%(count)d tickets newly flagged.") % {"count": count})


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


class ProjectMemberInline(admin.TabularInline):
    model = ProjectMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = ("name", "customer", "stage", "budget", "currency", "start_date", "end_date")
    list_select_related = ("customer",)
    search_fields = ("name", "customer__name")
    list_filter = ("stage",)
    autocomplete_fields = ("customer", "owner")
    inlines = [ProjectMemberInline, MilestoneInline]


@admin.register(Opportunity)
class OpportunityAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "customer",
        "stage",
        "amount",
        "currency",
        "probability",
        "expected_close_date",
        "owner",
    )
    list_select_related = ("customer", "owner")
    search_fields = ("name", "customer__name")
    list_filter = ("stage", "currency")
    autocomplete_fields = ("customer", "owner")
    show_full_result_count = False


@admin.register(OrderImport)
class OrderImportAdmin(VisibleAdminMixin, admin.ModelAdmin):
    list_display = (
        "original_name",
        "owner",
        "status",
        "dry_run",
        "total_rows",
        "lines_created",
        "error_count",
        "created_at",
    )
    list_select_related = ("owner",)
    search_fields = ("original_name",)
    list_filter = ("status", "dry_run")
    readonly_fields = [f.name for f in OrderImport._meta.fields]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Managers keep the rates totals are converted with: one row per currency and first day it applies."""

    list_display = ("currency", "rate_to_base", "valid_from", "updated_at")
    list_filter = ("currency",)
    search_fields = ("currency",)
    date_hierarchy = "valid_from"
    ordering = ("currency", "-valid_from")
