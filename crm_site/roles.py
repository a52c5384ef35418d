"""The staff roles (auth groups) and the model permissions each one holds, kept in sync idempotently."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import MANAGER_GROUP

ALL = "*"
READ = ("view",)
WRITE = ("add", "change", "view")
FULL = ("add", "change", "delete", "view")

# role -> {app_label: actions}; ALL as the app label means every project app.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    MANAGER_GROUP: {ALL: FULL, "django_celery_beat": FULL, "auth": READ},
    "Sales": {
        "customers": WRITE,
        "sessions_log": WRITE,
        "orders": WRITE,
        "profiles": READ,
        "knowledge": READ,
    },
    "Marketing": {"marketing": FULL, "profiles": READ, "customers": READ, "sessions_log": READ},
    "Service": {"orders": WRITE, "sessions_log": WRITE, "customers": READ, "knowledge": READ},
    "KnowledgeEditor": {"knowledge": FULL},
}
ROLE_LABELS = {
    MANAGER_GROUP: _("Manager"),
    "Sales": _("Sales"),
    "Marketing": _("Marketing"),
    "Service": _("Service"),
    "KnowledgeEditor": _("Knowledge editor"),
}


def _project_apps() -> list[str]:
    from django.conf import settings

    return list(settings.PROJECT_APPS)


def role_permissions(role: str) -> list[Permission]:
    """Every Permission row the role should hold, given the models that exist now."""
    wanted = []
    for app_label, actions in ROLE_PERMISSIONS[role].items():
        labels = _project_apps() if app_label == ALL else [app_label]
        for label in labels:
            codenames = [
                f"{action}_{model._meta.model_name}"
                for model in (apps.get_app_config(label).get_models() if label in apps.app_configs else [])
                for action in actions
            ]
            wanted.extend(Permission.objects.filter(content_type__app_label=label, codename__in=codenames))
    # Custom (non-CRUD) permissions of project apps go to managers too.
    if role == MANAGER_GROUP:
        crud = ("add_", "change_", "delete_", "view_")
        wanted.extend(
            permission
            for permission in Permission.objects.filter(content_type__app_label__in=_project_apps())
            if not permission.codename.startswith(crud)
        )
    return wanted


def sync_roles() -> dict[str, int]:
    """Create the role groups and set their permissions; safe to run any number of times."""
    counts = {}
    for role in ROLE_PERMISSIONS:
        group, _created = Group.objects.get_or_create(name=role)
        permissions = role_permissions(role)
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate hook: runs once, after the last app, when every Permission row exists."""
    if sender.label != "crm_site":
        return
    sync_roles()
