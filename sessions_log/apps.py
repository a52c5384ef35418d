"""The sessions log: every conversation with a customer (calls, email, chats, visits...) and follow-ups."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SessionsLogConfig(AppConfig):
    name = "sessions_log"
    verbose_name = _("Interactions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # attachments: connects the receiver that removes a deleted attachment's file (in every process).
        from sessions_log import attachments, panels  # noqa: F401
        from sessions_log.schedule import ensure_sessions_log_schedules_after_migrate

        panels.register()
        post_migrate.connect(
            ensure_sessions_log_schedules_after_migrate, dispatch_uid="sessions_log.schedules"
        )
