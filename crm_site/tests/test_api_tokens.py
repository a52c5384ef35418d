"""API tokens expire, and both API paths (/api/v1/ and the older /api/events/) limit requests per token."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from crm_site.api import api_token_create
from crm_site.models import ApiToken
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

Scope = ApiToken.Scope


def _post(path, body, key):
    return Client().post(
        path, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def _events(customer):
    return [
        {"customer_id": str(customer.pk), "event_type": "page_view", "occurred_at": "2026-01-02T03:04:05Z"}
    ]


def test_a_new_token_expires_after_the_configured_lifetime_and_zero_means_never(sales_user, settings):
    settings.API_TOKEN_LIFETIME_DAYS = 30
    token, _key = api_token_create(name="shop", user=sales_user)
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    settings.API_TOKEN_LIFETIME_DAYS = 0
    forever, _key = api_token_create(name="shop", user=sales_user)
    assert forever.expires_at is None


@pytest.mark.parametrize("path", ["/api/v1/events/", "/api/events/"])
def test_an_expired_token_is_401_saying_it_expired_on_both_paths(sales_user, path):
    customer = CustomerFactory(owner=sales_user)
    expires = timezone.now() + timedelta(days=1)
    _token, key = api_token_create(
        name="shop", user=sales_user, scopes=[Scope.EVENTS_WRITE], expires_at=expires
    )
    assert _post(path, _events(customer), key).status_code == 200
    with time_machine.travel(expires + timedelta(seconds=1)):
        response = _post(path, _events(customer), key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="crm"'
    body = response.json()
    message = body.get("detail") or body.get("error")
    assert message.startswith("This API token expired on ") and "ask a manager for a new one" in message
    assert body["code"] == "token_expired"


@pytest.mark.parametrize("path", ["/api/v1/events/", "/api/events/"])
def test_past_the_rate_both_paths_answer_429_with_retry_after(sales_user, settings, path):
    settings.API_TOKEN_THROTTLE_RATE = "2/minute"
    customer = CustomerFactory(owner=sales_user)
    _token, key = api_token_create(name="shop", user=sales_user, scopes=[Scope.EVENTS_WRITE])
    _other, other_key = api_token_create(name="app", user=sales_user, scopes=[Scope.EVENTS_WRITE])
    assert [_post(path, _events(customer), key).status_code for _ in range(2)] == [200, 200]
    throttled = _post(path, _events(customer), key)
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert _post(path, _events(customer), other_key).status_code == 200


def test_the_two_paths_share_one_count_per_token(sales_user, settings):
    settings.API_TOKEN_THROTTLE_RATE = "2/minute"
    customer = CustomerFactory(owner=sales_user)
    _token, key = api_token_create(name="shop", user=sales_user, scopes=[Scope.EVENTS_WRITE])
    assert _post("/api/events/", _events(customer), key).status_code == 200
    assert _post("/api/v1/events/", _events(customer), key).status_code == 200
    assert _post("/api/events/", _events(customer), key).status_code == 429
    assert _post("/api/v1/events/", _events(customer), key).status_code == 429


def test_the_admin_proposes_the_default_expiry_and_sets_another(client, manager_user, sales_user, settings):
    settings.API_TOKEN_LIFETIME_DAYS = 90
    manager_user.is_superuser = True
    manager_user.save()
    client.force_login(manager_user)
    form = client.get("/admin/crm_site/apitoken/add/").content.decode()
    proposed = timezone.localdate() + timedelta(days=90)
    assert f'name="expires_at_0" value="{proposed.isoformat()}"' in form
    response = client.post(
        "/admin/crm_site/apitoken/add/",
        {
            "name": "PBX",
            "user": sales_user.pk,
            "scopes": ["calls:write"],
            "expires_at_0": "2030-06-01",
            "expires_at_1": "12:00:00",
        },
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="PBX")
    assert timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M") == "2030-06-01 12:00"
    assert re.search(r"crm_[\w-]{40,}", response.content.decode())
