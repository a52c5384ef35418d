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
