"""The orders module: products, sales orders, service tickets, projects and the opportunity pipeline."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from orders import panels, search
        from orders.services.schedule import ensure_breach_schedule_after_migrate

        panels.register()
        search.register()
        post_migrate.connect(ensure_breach_schedule_after_migrate, dispatch_uid="orders.breach_schedule")
