"""System checks that keep the ORM code portable to MongoDB."""

from typing import Any

from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import models


@checks.register(checks.Tags.models)
def check_uuid_primary_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every concrete project model needs a UUID primary key (AutoFields are rejected on MongoDB)."""
    errors: list[checks.CheckMessage] = []
    for label in [*settings.PROJECT_APPS, "crm_site"]:
        if label not in apps.app_configs:
            continue
        for model in apps.get_app_config(label).get_models():
            if model._meta.auto_created or not model._meta.managed:
                continue
            if not isinstance(model._meta.pk, models.UUIDField):
                errors.append(
                    checks.Error(
                        f"{model._meta.label} must use a UUID primary key "
                        "(inherit crm_site.models.BaseModel).",
                        obj=model,
                        id="crm_site.E001",
                    )
                )
            for field in model._meta.local_many_to_many:
                through = field.remote_field.through
                if through is not None and through._meta.auto_created:
                    errors.append(
                        checks.Error(
                            f"{model._meta.label}.{field.name} needs an explicit through model inheriting "
                            "crm_site.models.BaseModel (auto-created join tables get integer keys).",
                            obj=model,
                            id="crm_site.E002",
                        )
                    )
    return errors


# The settings a production deployment must set for personal data at rest (issue 13): without them the
# keys are derived from SECRET_KEY, so rotating SECRET_KEY would make every encrypted value unreadable and
# every blind index wrong.
PERSONAL_DATA_KEY_SETTINGS = ("CRM_FIELD_ENCRYPTION_KEYS", "CRM_BLIND_INDEX_KEY")


@checks.register(checks.Tags.security, deploy=True)
def check_personal_data_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy`` warns when the field-encryption keys or the blind-index key are unset."""
    from crm_site.crypto import configured_keys

    warnings: list[checks.CheckMessage] = []
    for name in PERSONAL_DATA_KEY_SETTINGS:
        value = getattr(settings, name, None)
        configured = configured_keys(name) if isinstance(value, list | tuple) else str(value or "").strip()
        if not configured:
            warnings.append(
                checks.Warning(
                    f"{name} is not set: personal data at rest is keyed from SECRET_KEY, so rotating "
                    "SECRET_KEY would make encrypted values unreadable and blind indexes wrong.",
                    hint=f"Set {name} in the environment (see README, Production).",
                    id="crm_site.W013",
                )
            )
    for key in configured_keys("CRM_FIELD_ENCRYPTION_KEYS"):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            warnings.append(
                checks.Error(
                    "CRM_FIELD_ENCRYPTION_KEYS holds a value that is no Fernet key.",
                    hint="Make keys with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="crm_site.E013",
                )
            )
    return warnings
