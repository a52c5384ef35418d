"""The staff roles (auth groups) and the model permissions each one holds, kept in sync idempotently."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from crm_site.visibility import MANAGER_GROUP

ALL = "*"
READ = ("view",)
WRITE = ("add", "change", "view")
FULL = ("add", "change", "delete", "view")
# The all-rows grants (crm_site.visibility.sees_all): "view_all" on customers.customer is the permission
# customers.view_all_customer (read every customer), "change_all" on orders.serviceorder is
# orders.change_all_serviceorder (work every ticket).
READ_EVERY = ("view", "view_all")
# Personal data (issue 13): "view_pii" is customers.view_pii_customer (phone, email, ID number, birth date,
# street and postal code unmasked), "reveal_pii" is customers.reveal_pii_customer (one value at a time, for
# a reason, audited). Granted by name: the managers' custom-permission rule below skips "view_" codenames.
VIEW_PII = "view_pii"
REVEAL_PII = "reveal_pii"

# The product catalogue (products and their categories, i.e. prices) and the exchange rates are managers'
# only to change: other roles that write orders read them.
CATALOGUE_READ = {"orders.product": READ, "orders.productcategory": READ, "orders.exchangerate": READ}

# Mailboxes (their passwords' variable names), fetch runs, the digest log and API id receipts are the
# managers' to configure and read: the other roles that log interactions have no business there.
MAIL_SETUP_NONE = {
    "sessions_log.mailaccount": (),
    "sessions_log.mailfetchrun": (),
    "sessions_log.digestsent": (),
    "sessions_log.externalreference": (),
}

# Data-subject requests and the suppression list (issue 13) are the managers' (the privacy officer's):
# the other roles that read or write customers hold none of their permissions.
PRIVACY_NONE: dict[str, tuple[str, ...]] = {"customers.datasubjectrequest": (), "customers.suppression": ()}

# role -> {app_label or "app_label.model": actions}; ALL as the app label means every project app. A
# "app_label.model" entry overrides its app's entry for that one model. docs/roles.md is the matrix these
# entries and the record rule (customers/selectors/visibility.py) make; crm_site/tests/test_roles.py walks it.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    MANAGER_GROUP: {
        ALL: FULL,
        "customers.customer": (*FULL, VIEW_PII, REVEAL_PII),
        "django_celery_beat": FULL,
        "auth": READ,
    },
    "Sales": {
        "customers": WRITE,
        "customers.customer": (*WRITE, "export", VIEW_PII),
        **PRIVACY_NONE,
        "sessions_log": WRITE,
        **MAIL_SETUP_NONE,
        "orders": WRITE,
        **CATALOGUE_READ,
        "profiles": READ,
        "knowledge": READ,
    },
    # Reads every customer and portrait to build segments; manages the manual segments and campaigns.
    "Marketing": {
        "marketing": FULL,
        "profiles": READ,
        "profiles.segment": FULL,
        "customers": READ,
        # Finds and counts customers: personal values masked, one revealed at a time for a reason.
        "customers.customer": (*READ_EVERY, REVEAL_PII),
        **PRIVACY_NONE,
        "sessions_log": READ,
        **MAIL_SETUP_NONE,
        "sessions_log.unmatcheditem": (),
    },
    # Finds any customer, opens and works tickets for any of them; reads orders and projects to answer.
    "Service": {
        "orders": READ,
        "orders.serviceorder": ("add", "change", "view", "change_all"),
        "orders.opportunity": (),
        "orders.orderimport": (),
        "sessions_log": WRITE,
        **MAIL_SETUP_NONE,
        # Works the unmatched inbox: attaches any unknown sender's mail, call or chat to its customer.
        "sessions_log.unmatcheditem": ("change", "view", "view_all", "change_all"),
        "customers": READ,
        "customers.customer": (*READ_EVERY, VIEW_PII),
        "customers.customerimport": (),
        **PRIVACY_NONE,
        "profiles": READ,
        "knowledge": READ,
    },
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


def _entry_covers(label: str, model: str, entry_model: str, overridden: set[str]) -> bool:
    """Whether a role entry applies to a model: its own model entry, or an app entry not overridden."""
    if entry_model:
        return model == entry_model
    return f"{label}.{model}" not in overridden


def role_permission_ids(role: str, permissions: list[tuple[int, str, str]]) -> set:
    """The ids of the Permission rows the role should hold, from (id, codename, app_label) rows."""
    wanted = set()
    entries = ROLE_PERMISSIONS[role]
    overridden = {key for key in entries if "." in key}
    for key, actions in entries.items():
        app_label, _dot, model_name = key.partition(".")
        labels = _project_apps() if app_label == ALL else [app_label]
        codenames = {
            (label, f"{action}_{model._meta.model_name}")
            for label in labels
            if label in apps.app_configs
            for model in apps.get_app_config(label).get_models()
            if _entry_covers(label, str(model._meta.model_name), model_name, overridden)
            for action in actions
        }
        wanted |= {pk for pk, codename, label in permissions if (label, codename) in codenames}
    # Custom (non-CRUD) permissions of project apps go to managers too.
    if role == MANAGER_GROUP:
        crud = ("add_", "change_", "delete_", "view_")
        project = set(_project_apps())
        wanted |= {
            pk for pk, codename, label in permissions if label in project and not codename.startswith(crud)
        }
    return wanted


def sync_roles() -> dict[str, int]:
    """Create the role groups and set their permissions; safe to run any number of times.

    Reads every permission once and writes only what differs, so a re-run costs a handful of queries.
    """
    app_labels = dict(ContentType.objects.values_list("id", "app_label"))
    permissions = [
        (pk, codename, app_labels.get(content_type_id, ""))
        for pk, codename, content_type_id in Permission.objects.values_list(
            "id", "codename", "content_type_id"
        )
    ]
    links = Group.permissions.through.objects
    counts = {}
    for role in ROLE_PERMISSIONS:
        group, _created = Group.objects.get_or_create(name=role)
        wanted = role_permission_ids(role, permissions)
        current = set(links.filter(group_id=group.pk).values_list("permission_id", flat=True))
        if current != wanted:
            group.permissions.set(wanted)
        counts[role] = len(wanted)
    return counts


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate hook: runs once, after the last installed app, when every Permission row exists.

    post_migrate is sent per app in INSTALLED_APPS order, and each app's Permission rows are created on
    its own turn: syncing on crm_site's turn (it comes before the project apps) missed every permission of
    a newly added app until the next sync.
    """
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.label != with_models[-1].label:  # post_migrate skips apps without models
        return
    sync_roles()
