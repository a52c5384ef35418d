"""The portable building blocks: visibility, the atomic helper, the UUID check, the API token."""

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import checks

from crm_site.api import api_token_create, api_token_revoke, authenticate_token
from crm_site.db import atomic
from crm_site.models import ApiToken
from crm_site.registry import Panel, PanelRegistry
from crm_site.visibility import sees_everything

pytestmark = pytest.mark.django_db


def test_managers_and_superusers_see_everything_sales_staff_do_not(sales_user, manager_user, make_user):
    superuser = make_user("root", is_superuser=True)
    assert sees_everything(manager_user)
    assert sees_everything(superuser)
    assert not sees_everything(sales_user)
    assert not sees_everything(AnonymousUser())


def test_atomic_rolls_back_every_write_when_the_block_fails(sales_user):
    with pytest.raises(RuntimeError), atomic():
        api_token_create(name="half", user=sales_user)
        raise RuntimeError("boom")
    assert not ApiToken.objects.filter(name="half").exists()


def test_atomic_works_as_a_bare_decorator(sales_user):
    @atomic
    def make():
        return api_token_create(name="decorated", user=sales_user)

    token, _key = make()
    assert ApiToken.objects.get(pk=token.pk).name == "decorated"


def test_every_project_model_has_a_uuid_primary_key():
    errors = [message for message in checks.run_checks() if message.id in {"crm_site.E001", "crm_site.E002"}]
    assert errors == []
    assert isinstance(ApiToken().pk, uuid.UUID)


def test_the_uuid_check_flags_a_model_with_an_integer_key(settings):
    from django.apps import apps
    from django.db import models

    from crm_site.checks import check_uuid_primary_keys

    class IntegerKeyed(models.Model):  # noqa: DJ008
        class Meta:
            app_label = "crm_site"

    try:
        errors = check_uuid_primary_keys()
        assert [error.id for error in errors] == ["crm_site.E001"]
        assert "crm_site.IntegerKeyed must use a UUID primary key" in errors[0].msg
    finally:
        del apps.all_models["crm_site"]["integerkeyed"]
        apps.clear_cache()


def test_api_token_authenticates_by_its_key_only_until_revoked(sales_user):
    token, key = api_token_create(name="shop", user=sales_user)
    assert key not in token.key_hash
    assert authenticate_token(f"Bearer {key}").pk == token.pk
    assert authenticate_token("Bearer crm_wrong") is None
    assert authenticate_token(key) is None
    api_token_revoke(token=token)
    assert authenticate_token(f"Bearer {key}") is None


def test_panel_registry_orders_panels_and_replaces_a_key():
    registry = PanelRegistry()
    registry.register(Panel(key="b", template="b.html", context=lambda **kw: {"n": 2}, order=20))
    registry.register(Panel(key="a", template="a.html", context=lambda **kw: {"n": 1}, order=10))
    registry.register(Panel(key="b", template="b2.html", context=lambda **kw: {"n": 3}, order=5))
    rendered = registry.render_contexts(user=None)
    assert [(panel.template, ctx["n"]) for panel, ctx in rendered] == [("b2.html", 3), ("a.html", 1)]
