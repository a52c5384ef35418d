"""System checks that keep the ORM code portable to MongoDB."""

from typing import Any

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
