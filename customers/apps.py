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
        search.register()
