"""The events API as another system (or an attacker) calls it: per-sender keys, field checks, bad bodies."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm_site.api import api_token_create
from customers.tests.factories import CustomerFactory
from profiles.models import Event
from profiles.tests.factories import EventFactory


def _event(customer, **extra):
    return {
        "customer_id": str(customer.pk),
        "event_type": "page_view",
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "channel": "web",
        **extra,
    }


def _client(user) -> Client:
    _token, key = api_token_create(name=f"{user.username}'s shop", user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _post(client, body, content_type="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    # CONTENT_TYPE again: the test client leaves it off an empty body, as real clients do not.
    return client.post("/api/events/", data=data, content_type=content_type, CONTENT_TYPE=content_type)


# --- idempotency keys are the sender's own namespace ---------------------------------------------


def test_another_users_idempotency_key_does_not_drop_my_event(
    sales_user, other_sales_user, own_customer, others_customer
):
    first = _post(_client(other_sales_user), [_event(others_customer, idempotency_key="order-1")])
    assert first.json() == {"stored": 1, "duplicates": 0, "errors": []}
    mine = _post(_client(sales_user), [_event(own_customer, idempotency_key="order-1")])
    assert mine.json() == {"stored": 1, "duplicates": 0, "errors": []}
    assert Event.objects.get(customer=own_customer).idempotency_key == "order-1"
    assert Event.objects.get(customer=others_customer).sent_by == other_sales_user


def test_a_key_stays_unique_for_its_own_sender_across_tokens(sales_user, own_customer):
    assert _post(_client(sales_user), [_event(own_customer, idempotency_key="k")]).json()["stored"] == 1
    # A second token of the same user (a rotated key) is the same sender: a retry stays a retry.
    again = _post(_client(sales_user), [_event(own_customer, idempotency_key="k")]).json()
    assert again == {"stored": 0, "duplicates": 1, "errors": []}
    assert Event.objects.count() == 1


def test_keyless_events_of_a_shared_customer_are_not_suppressed_by_another_sender(
    sales_user, manager_user, own_customer
):
    event = _event(own_customer)
    assert _post(_client(manager_user), [event]).json()["stored"] == 1
    assert _post(_client(sales_user), [event]).json() == {"stored": 1, "duplicates": 0, "errors": []}


def test_invisible_and_unknown_customers_get_the_same_error(sales_user, others_customer):
    import uuid

    client = _client(sales_user)
    hidden = _post(
        client,
        [_event(others_customer), _event(others_customer, customer_id="", customer_external_id="P-OTHER")],
    ).json()
    unknown = _post(
        client,
        [
            _event(others_customer, customer_id=str(uuid.uuid4())),
            _event(others_customer, customer_id="", customer_external_id="NOPE"),
        ],
    ).json()
    assert hidden["stored"] == unknown["stored"] == 0
    assert [e["errors"] for e in hidden["errors"]] == [e["errors"] for e in unknown["errors"]]
    assert not Event.objects.exists()


# --- every field is checked before anything is stored ----------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"occurred_at": "1500-06-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "1899-12-31T23:59:59Z"}, "occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
        ({"occurred_at": "9999-12-31T23:59:59-12:00"}, "occurred_at"),
        ({"occurred_at": 1735689600}, "occurred_at"),
        ({"event_type": 5}, "event_type"),
        ({"event_type": ["page_view"]}, "event_type"),
        ({"channel": 123}, "channel"),
        ({"channel": "w" * 31}, "channel"),
        ({"channel": "web\ud800"}, "channel"),
        ({"idempotency_key": 5}, "idempotency_key"),
        ({"idempotency_key": {"a": 1}}, "idempotency_key"),
        ({"idempotency_key": "k" * 101}, "idempotency_key"),
        ({"idempotency_key": "a\x00b"}, "idempotency_key"),
        ({"customer_id": 12345}, "customer_id"),
        ({"customer_id": "", "customer_external_id": "P-OWN\x00"}, "customer_external_id"),
        ({"customer_id": "", "customer_external_id": ["P-OWN"]}, "customer_external_id"),
        ({"properties": []}, "properties"),
        ({"properties": "query=shoes"}, "properties"),
        ({"properties": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "properties"),
        ({"properties": {"note": "x" * 4001}}, "properties"),
        ({"properties": {"note": "nul\x00"}}, "properties"),
        ({"properties": {"big": 2**64}}, "properties"),
        ({"event_type": "search"}, "properties"),
        ({"event_type": "search", "properties": {"query": "  "}}, "properties"),
        ({"event_type": "search", "properties": {"query": 42}}, "properties"),
        ({"event_type": "purchase", "properties": {"amount": -5}}, "properties"),
        ({"event_type": "purchase", "properties": {"amount": "lots"}}, "properties"),
    ],
)
def test_event_api_refuses_a_bad_field_by_name_and_stores_nothing(sales_user, own_customer, extra, field):
    response = _post(_client(sales_user), [_event(own_customer, **extra)])
    assert response.status_code == 200
    result = response.json()
    assert result["stored"] == 0
    assert list(result["errors"][0]["errors"]) == [field]
    assert not Event.objects.exists()


def test_event_api_accepts_the_edges_of_the_allowed_range(sales_user, own_customer):
    body = [
        _event(own_customer, occurred_at="1900-01-01T00:00:00Z", idempotency_key="oldest"),
        _event(
            own_customer,
            occurred_at=(timezone.now() + timedelta(hours=23)).isoformat(),
            idempotency_key="soon",
        ),
        _event(
            own_customer,
            event_type="search",
            properties={"query": "手机", "page": {"n": 1}},
            idempotency_key="q",
        ),
        _event(
            own_customer,
            event_type="purchase",
            properties={"amount": "12.50", "quantity": 0},
            idempotency_key="p",
        ),
    ]
    assert _post(_client(sales_user), body).json() == {"stored": 4, "duplicates": 0, "errors": []}


def test_event_api_refuses_events_more_than_a_day_ahead(sales_user, own_customer):
    late = (timezone.now() + timedelta(days=1, minutes=5)).isoformat()
    result = _post(_client(sales_user), [_event(own_customer, occurred_at=late)]).json()
    assert list(result["errors"][0]["errors"]) == ["occurred_at"]


def test_a_customers_old_event_no_longer_breaks_their_next_events(sales_user, own_customer):
    """Before: a 1500 event was stored; every later batch of that customer answered 500."""
    client = _client(sales_user)
    _post(client, [_event(own_customer, occurred_at="1500-01-01T00:00:00Z")])
    assert _post(client, [_event(own_customer, idempotency_key="next")]).json()["stored"] == 1
    assert list(Event.objects.values_list("idempotency_key", flat=True)) == ["next"]


# --- malformed bodies are a 4xx with a clear message, never a 500 --------------------------------


def test_deeply_nested_body_is_a_400(sales_user):
    response = _post(_client(sales_user), "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert "deeply" in response.json()["error"]


def test_body_nested_past_the_limit_but_parseable_is_a_400(sales_user, own_customer):
    response = _post(_client(sales_user), "[" * 40 + json.dumps(_event(own_customer)) + "]" * 40)
    assert response.status_code == 400
    assert "deeply" in response.json()["error"]
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"", 400, "empty"),
        (b"   ", 400, "empty"),
        (b"not json", 400, "not valid JSON"),
        (b'[{"customer_id": ', 400, "not valid JSON"),
        (b"\xff\xfe[\x00]\x00", 400, "UTF-8"),
        (b'"a string"', 400, "list of events"),
        (b"42", 400, "list of events"),
        (b"null", 400, "list of events"),
        (b'{"events": {"a": 1}}', 400, "list of events"),
        (b'{"no_events": []}', 400, "list of events"),
        (b'[{"properties": {"amount": NaN}}]', 400, "NaN"),
        (b'[{"properties": {"amount": Infinity}}]', 400, "NaN"),
        (b"[" + b"9" * 5000 + b"]", 400, "digits"),
    ],
)
def test_malformed_body_is_a_clear_4xx(sales_user, body, status, words):
    response = _post(_client(sales_user), body)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert not Event.objects.exists()


def test_wrong_content_type_is_a_415(sales_user, own_customer):
    response = _post(_client(sales_user), json.dumps([_event(own_customer)]), content_type="text/plain")
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert not Event.objects.exists()


def test_body_over_the_upload_limit_is_a_413(settings, sales_user, own_customer):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
    body = [_event(own_customer, properties={"note": "x" * 3000}) for _ in range(1000)]
    response = _post(_client(sales_user), body)
    assert response.status_code == 413
    assert "too large" in response.json()["error"]
    assert not Event.objects.exists()


def test_get_is_not_allowed(sales_user):
    assert _client(sales_user).get("/api/events/").status_code == 405


def test_factory_events_without_a_sender_do_not_collide_with_api_keys(sales_user, own_customer):
    EventFactory(customer=CustomerFactory(owner=sales_user), idempotency_key="legacy")
    result = _post(_client(sales_user), [_event(own_customer, idempotency_key="legacy")]).json()
    assert result == {"stored": 1, "duplicates": 0, "errors": []}


def test_a_legacy_pre_1677_row_does_not_turn_the_customers_next_batch_into_a_500(
    history, django_capture_on_commit_callbacks
):
    """Before: the refresh after commit raised OutOfBoundsDatetime, so a stored batch answered 500.

    Now the refresh copes with the row, and a refresh that fails anyway is logged (send_robust) instead.
    """
    from datetime import UTC, datetime

    from profiles.services.rebuild import profile_rebuild_sync

    profile_rebuild_sync()
    customer = history[0]
    # A row stored before ingestion checked dates (pandas cannot hold it as a timestamp).
    EventFactory(customer=customer, occurred_at=datetime(1500, 1, 1, tzinfo=UTC), idempotency_key="legacy")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(_client(customer.owner), [_event(customer, idempotency_key="new")])
    assert response.status_code == 200
    assert response.json()["stored"] == 1
    assert Event.objects.filter(customer=customer, idempotency_key="new").exists()
