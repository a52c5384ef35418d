"""The REST API under /api/v1/: tokens and scopes, throttling, errors, the schema and its docs page."""

import json
import re

import pytest
from django.test import Client
from openapi_spec_validator import validate

from crm_site.api import api_token_create, api_token_revoke
from crm_site.models import ApiToken
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

Scope = ApiToken.Scope


def _token(user, *scopes):
    return api_token_create(name="test", user=user, scopes=scopes)


def _post(path, body, key=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return Client().post(path, data=data, content_type="application/json", **headers, **extra)


def _event(customer):
    return {"customer_id": str(customer.pk), "event_type": "page_view", "occurred_at": "2026-01-02T03:04:05Z"}


def test_a_request_without_a_token_is_401_with_the_bearer_challenge():
    response = _post("/api/v1/calls/", {})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="crm"'
    assert response.json()["code"] == "not_authenticated"


def test_an_unknown_or_revoked_token_is_401(sales_user):
    token, key = _token(sales_user, Scope.CALLS_WRITE)
    assert _post("/api/v1/calls/", {}, key="crm_not-a-key").status_code == 401
    api_token_revoke(token=token)
    response = _post("/api/v1/calls/", {}, key=key)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Missing, unknown or revoked API token.",
        "code": "authentication_failed",
    }


def test_a_token_of_a_deactivated_user_is_401(sales_user):
    _token_row, key = _token(sales_user, Scope.CALLS_WRITE)
    sales_user.is_active = False
    sales_user.save()
    assert _post("/api/v1/calls/", {}, key=key).status_code == 401


def test_a_token_without_the_scope_is_403_naming_the_scope(sales_user):
    _token_row, key = _token(sales_user, Scope.EVENTS_WRITE)
    response = _post("/api/v1/calls/", {}, key=key)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "calls:write" in response.json()["detail"]


def test_unknown_scopes_are_refused_when_a_token_is_made(sales_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        _token(sales_user, "calls:delete")
    assert "scopes" in error.value.message_dict


def test_tokens_made_without_scopes_send_events_as_before(sales_user):
    token, _key = api_token_create(name="shop", user=sales_user)
    assert token.scopes == ["events:write"]


def test_the_events_api_answers_on_both_paths_with_the_same_result(sales_user):
    customer = CustomerFactory(owner=sales_user)
    _token_row, key = _token(sales_user, Scope.EVENTS_WRITE)
    old = _post("/api/events/", [_event(customer)], key=key)
    assert old.status_code == 200
    assert old.json() == {"stored": 1, "duplicates": 0, "errors": []}
    new = _post("/api/v1/events/", [_event(customer)], key=key)
    assert new.status_code == 200
    # Same event, same sender: the derived key makes it a duplicate whichever path stored it first.
    assert new.json() == {"stored": 0, "duplicates": 1, "errors": []}
    rejected = _post("/api/v1/events/", {"events": [{"event_type": "nope"}]}, key=key).json()
    assert rejected["stored"] == 0 and rejected["errors"][0]["index"] == 0
    assert set(rejected["errors"][0]["errors"]) == {"customer_id", "event_type", "occurred_at"}


def test_the_events_paths_both_need_the_events_scope(sales_user):
    customer = CustomerFactory(owner=sales_user)
    _token_row, key = _token(sales_user, Scope.CALLS_WRITE)
    assert _post("/api/events/", [_event(customer)], key=key).status_code == 403
    assert _post("/api/v1/events/", [_event(customer)], key=key).status_code == 403


def test_tokens_from_before_scopes_get_the_events_scope_by_the_migration(sales_user):
    from importlib import import_module

    from django.apps import apps

    token, _key = _token(sales_user)
    ApiToken.objects.filter(pk=token.pk).update(scopes=[])
    migration = import_module("crm_site.migrations.0002_apitoken_scopes")
    migration.existing_tokens_send_events(apps, None)
    token.refresh_from_db()
    assert token.has_scope("events:write") and not token.has_scope("calls:write")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        ("{not json", "application/json", 400, "not valid JSON"),
        ('{"a": NaN}', "application/json", 400, "NaN"),
        ("[" * 40 + "]" * 40, "application/json", 400, "deeply"),
        (b"\xff\xfe", "application/json", 400, "UTF-8"),
        ("number=1", "application/x-www-form-urlencoded", 415, "Unsupported media type"),
    ],
)
def test_unreadable_bodies_are_one_clear_error_in_the_v1_shape(sales_user, body, content_type, status, words):
    _token_row, key = _token(sales_user, Scope.CALLS_WRITE)
    response = Client().post(
        "/api/v1/calls/", data=body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert set(response.json()) == {"detail", "code"}


def test_a_body_over_the_upload_limit_is_413(sales_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    _token_row, key = _token(sales_user, Scope.EVENTS_WRITE)
    response = _post("/api/v1/events/", [{"x": "y" * 2000}], key=key)
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_requests_past_the_rate_are_429_per_token(sales_user, settings):
    settings.API_TOKEN_THROTTLE_RATE = "2/minute"
    customer = CustomerFactory(owner=sales_user)
    _first, key = _token(sales_user, Scope.EVENTS_WRITE)
    _second, other_key = _token(sales_user, Scope.EVENTS_WRITE)
    assert [_post("/api/v1/events/", [_event(customer)], key=key).status_code for _ in range(2)] == [200, 200]
    throttled = _post("/api/v1/events/", [_event(customer)], key=key)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    # Another token of the same user has its own count.
    assert _post("/api/v1/events/", [_event(customer)], key=other_key).status_code == 200


def _schema(client, **headers):
    return client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", **headers)


def test_the_schema_is_valid_openapi_and_lists_every_endpoint(sales_user):
    _token_row, key = _token(sales_user)
    response = _schema(Client(), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/calls/", "/api/v1/chats/", "/api/v1/interactions/", "/api/v1/events/"} <= set(
        spec["paths"]
    )
    assert spec["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerToken"]["description"],
    }
    assert "calls:write" in spec["paths"]["/api/v1/calls/"]["post"]["description"]


def test_the_schema_is_not_served_to_anonymous_callers():
    assert _schema(Client()).status_code in {401, 403}


def test_the_docs_page_renders_from_local_static_files_only(client, sales_user):
    client.force_login(sales_user)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="swagger-ui"' in html
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert referenced
    for url in referenced:
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url
    script = client.get("/api/v1/docs/?script=").content.decode()
    assert "/api/v1/schema/" in script
    assert not re.search(r"https?://", script)


def test_the_docs_page_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_manager_makes_a_token_with_scopes_in_the_admin_and_sees_them_listed(
    client, manager_user, sales_user
):
    manager_user.is_superuser = True  # the admin's add permission for API tokens
    manager_user.save()
    client.force_login(manager_user)
    form = client.get("/admin/crm_site/apitoken/add/").content.decode()
    assert 'value="calls:write"' in form and 'value="interactions:read"' in form
    response = client.post(
        "/admin/crm_site/apitoken/add/",
        {"name": "PBX", "user": sales_user.pk, "scopes": ["calls:write", "chats:write"]},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="PBX")
    assert token.scopes == ["calls:write", "chats:write"]
    key = re.search(r"crm_[\w-]{40,}", response.content.decode()).group(0)
    assert _post("/api/v1/calls/", {}, key=key).status_code == 400  # authenticated, allowed, then invalid
    listing = client.get("/admin/crm_site/apitoken/").content.decode()
    assert "calls:write, chats:write" in listing


def test_the_schema_generates_without_warnings(tmp_path):
    """A view drf-spectacular cannot describe (an unknown field type, an enum name clash) fails here."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")
