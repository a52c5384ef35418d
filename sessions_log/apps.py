"""The sessions log: every conversation with a customer (calls, email, chats, visits...) and follow-ups."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SessionsLogConfig(AppConfig):
    name = "sessions_log"
    verbose_name = _("Interactions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sessions_log import panels

        panels.register()
