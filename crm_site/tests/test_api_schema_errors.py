"""The OpenAPI schema describes the errors the API really sends (issue 13: Schemathesis found a chat's
nested message errors, ``{"messages": {"0": {"text": [...]}}}``, against a schema that said every field's
errors are a list of strings)."""

import json

import jsonschema
import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from crm_site.api import api_token_create
from crm_site.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_nested_field_error_matches_the_documented_error_schema(sales_user):
    _token, key = api_token_create(name="t", user=sales_user, scopes=[ApiToken.Scope.CHATS_WRITE])
    body = {
        "email": "someone@example.com",
        "started_at": "2026-01-01T00:00:00Z",
        "messages": [{"at": "2026-01-01T00:00:00Z", "speaker": "agent"}],
    }
    response = Client().post(
        "/api/v1/chats/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 400
    answer = response.json()
    assert "text" in answer["errors"]["messages"]["0"]
    error_schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["Error"]
    jsonschema.validate(answer, error_schema)
