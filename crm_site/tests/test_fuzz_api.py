"""Schemathesis over the OpenAPI schema of /api/v1/ (issue 13), in-process against the WSGI application.

Every operation of the schema drf-spectacular serves at /api/v1/schema/ is called with generated
requests (valid ones from the schema, and the coverage phase's edge cases: wrong types, huge numbers,
lone surrogates, missing fields), each with a bearer token of one of the scopes (all scopes, exactly the
operation's, or another one). Checks: no server error, and every response (2xx, 4xx) matches the schema
(status code, content type, body) as documented. More examples: ``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm_site.tests.fuzzing import fuzz_settings

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

# The schema exactly as /api/v1/schema/ serves it (generated without a request: no database needed).
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
APP = get_wsgi_application()
SCOPES = ["events:write", "calls:write", "chats:write", "interactions:read", "interactions:write"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def _keep_the_test_connection():
    """As Django's test client does: a request through the WSGI handler would otherwise close the
    connection the test's transaction lives on (request_finished -> close_old_connections)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(make_user, _keep_the_test_connection):
    from crm_site.api import api_token_create
    from crm_site.models import ApiToken
    from customers.tests.factories import CustomerFactory

    user = make_user("fuzz_api", "Sales")
    CustomerFactory(owner=user, external_id="C1", name="王芳")
    keys = {"all": api_token_create(name="all", user=user, scopes=ApiToken.Scope.values)[1]}
    for scope in ApiToken.Scope.values:
        keys[scope] = api_token_create(name=scope, user=user, scopes=[scope])[1]
    return keys


def _token_for(case, tokens: dict[str, str]) -> str:
    """Half the cases with the all-scopes token, the others with a one-scope token (the operation's own
    or another), chosen from the request itself so a failing case replays with the same token."""
    choice = zlib.crc32(repr((case.body, case.query, case.path_parameters)).encode("utf-8", "replace"))
    order = ["all"] * len(SCOPES) + SCOPES
    return tokens[order[choice % len(order)]]


@schema.parametrize()
@fuzz_settings(0.6)
def test_api_v1_never_answers_a_server_error(case, tokens):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_token_for(case, tokens)}"}, checks=CHECKS, app=APP
    )
