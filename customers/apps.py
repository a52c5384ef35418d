from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm_site.visibility import register_rule
        from customers import search
        from customers.selectors.visibility import customer_rule

        register_rule("customers.Customer", customer_rule)
        from crm_site.registry import Panel, customer_panels
        from customers.views.consent import consent_panel

        customer_panels.register(
            Panel(
                key="consent",
                template="customers/includes/_consent_panel.html",
                context=consent_panel,
                order=850,
            )
        )
        from customers.views.privacy import privacy_panel

        # A link to record a data-subject request, for the roles that may (issue 13).
        customer_panels.register(
            Panel(
                key="privacy",
                template="customers/includes/_privacy_panel.html",
                context=privacy_panel,
                order=910,
            )
        )
        search.register()
        # The read-only admin of requests and suppressions (customers/admin.py is the customers' own).
        from customers import admin_privacy  # noqa: F401

        _register_audit_masks()


def _register_audit_masks() -> None:
    """The trail stores encrypted personal values masked (docs/security.md, "Encryption at rest")."""
    from crm_site.audit.trail import audit_maskers, audit_reprs
    from customers.masking import mask_contact

    def contact_value(instance: Any, attname: str, value: Any) -> str:
        return mask_contact(getattr(instance, "kind", "") or "", value)

    def by_field(instance: Any, attname: str, value: Any) -> str:
        return mask_contact(attname, value)

    def contact_repr(instance: Any) -> str:
        return f"{instance.get_kind_display()}: {mask_contact(instance.kind, instance.value)}"

    def address_repr(instance: Any) -> str:
        return ", ".join(part for part in (instance.district, instance.city, instance.province) if part)

    audit_maskers["customers.ContactMethod"] = contact_value
    audit_maskers["customers.Customer"] = by_field
    audit_maskers["customers.Address"] = by_field
    audit_reprs["customers.ContactMethod"] = contact_repr
    audit_reprs["customers.Address"] = address_repr
