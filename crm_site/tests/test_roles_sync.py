"""The role groups are synced on the last app's post_migrate, when every app's Permission rows exist."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from crm_site.roles import sync_roles, sync_roles_after_migrate

pytestmark = pytest.mark.django_db


def test_sync_runs_on_the_last_app_with_models_not_before():
    sync_roles()
    sales = Group.objects.get(name="Sales")
    sales.permissions.remove(*sales.permissions.filter(content_type__app_label="sessions_log"))
    sync_roles_after_migrate(sender=apps.get_app_config("crm_site"))
    assert not sales.permissions.filter(content_type__app_label="sessions_log").exists()
    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    sync_roles_after_migrate(sender=last)
    assert sales.permissions.filter(codename="add_interaction").exists()
