"""The profiles app: behaviour events, the profile rebuild and its published outputs."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = _("Customer profiles")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm_site.registry import Panel, customer_panels, dashboard_cards
        from crm_site.signals import customer_activity
        from profiles import panels
        from profiles.services.schedule import ensure_profile_schedule_after_migrate
        from profiles.signals import schedule_refresh

        customer_panels.register(
            Panel(
                key="profile",
                template="profiles/includes/_customer_profile_card.html",
                context=panels.customer_profile_card,
                order=10,
            )
        )
        dashboard_cards.register(
            Panel(
                key="profiles",
                template="profiles/includes/_dashboard_card.html",
                context=panels.dashboard_card,
                order=30,
            )
        )
        panels.register_timeline()
        customer_activity.connect(schedule_refresh, dispatch_uid="profiles.schedule_refresh")
        post_migrate.connect(ensure_profile_schedule_after_migrate, dispatch_uid="profiles.schedule")
