"""The consent ledger over the REST API: POST /api/v1/consents/, GET /api/v1/customers/<id>/consents/."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from crm_site.api import api_token_create
from crm_site.models import ApiToken
from customers.models import ConsentRecord, ConsentState
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
Scope = ApiToken.Scope
URL = "/api/v1/consents/"


def _key(user, *scopes):
    return api_token_create(name="app", user=user, scopes=scopes)[1]


def _post(body, key):
    return Client().post(
        URL, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def _get(ref, key):
    return Client().get(f"/api/v1/customers/{ref}/consents/", HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def customer(sales_user):
    return CustomerFactory(owner=sales_user, external_id="C-1001")


def test_a_consent_is_written_to_the_ledger_and_read_back(sales_user, customer):
    key = _key(sales_user, Scope.CONSENTS_WRITE, Scope.CONSENTS_READ)
    response = _post(
        {
            "customer": "C-1001",
            "purpose": "marketing_sms",
            "granted": True,
            "notice_version": "2026-01",
            "evidence": "form 88",
            "recorded_at": "2026-01-05T10:00:00+08:00",
        },
        key,
    )
    assert response.status_code == 201, response.content
    record = ConsentRecord.objects.get(customer=customer)
    assert (record.purpose, record.granted, record.source, record.notice_version, record.evidence) == (
        "marketing_sms",
        True,
        "api",
        "2026-01",
        "form 88",
    )
    assert record.recorded_by_id == sales_user.pk
    assert response.json()["id"] == str(record.pk) and response.json()["customer"] == "C-1001"
    assert ConsentState.objects.get(customer=customer, purpose="marketing_sms").granted is True

    withdrawn = _post({"customer": str(customer.pk), "purpose": "marketing_sms", "granted": False}, key)
    assert withdrawn.status_code == 201
    assert ConsentRecord.objects.filter(customer=customer).count() == 2  # appended, never edited

    listed = _get("C-1001", key)
    assert listed.status_code == 200
    answers = {row["purpose"]: row for row in listed.json()["consents"]}
    assert answers["marketing_sms"]["granted"] is False and answers["marketing_sms"]["source"] == "api"
    assert answers["marketing_sms"]["is_default"] is False
    assert answers["cross_border"]["is_default"] is True and answers["cross_border"]["recorded_at"] is None


def test_each_method_needs_its_scope(sales_user, customer):
    read_only = _key(sales_user, Scope.CONSENTS_READ)
    response = _post({"customer": "C-1001", "purpose": "profiling", "granted": False}, read_only)
    assert response.status_code == 403 and "consents:write" in response.json()["detail"]
    write_only = _key(sales_user, Scope.CONSENTS_WRITE)
    response = _get("C-1001", write_only)
    assert response.status_code == 403 and "consents:read" in response.json()["detail"]
    assert not ConsentRecord.objects.exists()


def test_another_users_customer_is_a_404_that_names_nothing(other_sales_user, customer):
    other = other_sales_user
    key = _key(other, Scope.CONSENTS_WRITE, Scope.CONSENTS_READ)
    for ref in ("C-1001", str(customer.pk), "C-NONE"):
        posted = _post({"customer": ref, "purpose": "marketing_sms", "granted": True}, key)
        read = _get(ref, key)
        assert posted.status_code == 404 and read.status_code == 404
        assert (
            posted.json()
            == read.json()
            == {
                "detail": "No such customer (or not one you may change).",
                "code": "not_found",
            }
        )
    assert not ConsentRecord.objects.exists()


def test_invalid_fields_are_named(sales_user, customer):
    key = _key(sales_user, Scope.CONSENTS_WRITE)
    response = _post(
        {
            "customer": "C-1001",
            "purpose": "telepathy",
            "granted": "maybe",
            "source": "rumour",
            "notice_version": "x" * 41,
            "recorded_at": "yesterday",
        },
        key,
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"purpose", "granted", "source", "notice_version", "recorded_at"}
    future = _post(
        {
            "customer": "C-1001",
            "purpose": "profiling",
            "granted": False,
            "recorded_at": "2999-01-01T00:00:00Z",
        },
        key,
    )
    assert future.status_code == 400 and set(future.json()["errors"]) == {"recorded_at"}
    missing = _post({"customer": "C-1001"}, key)
    assert missing.status_code == 400 and set(missing.json()["errors"]) == {"purpose", "granted"}
    assert not ConsentRecord.objects.exists()


def test_the_schema_lists_both_operations_with_their_scopes(sales_user):
    key = _key(sales_user, Scope.CONSENTS_READ)
    spec = (
        Client()
        .get(
            "/api/v1/schema/",
            HTTP_ACCEPT="application/vnd.oai.openapi+json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        .json()
    )
    assert "consents:write" in spec["paths"]["/api/v1/consents/"]["post"]["description"]
    assert "consents:read" in spec["paths"]["/api/v1/customers/{external_id}/consents/"]["get"]["description"]
