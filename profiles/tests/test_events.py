import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from profiles.models import Event
from profiles.services.events import events_import_csv


def _event(customer, **extra):
    return {
        "customer_id": str(customer.pk),
        "event_type": "page_view",
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "channel": "web",
        **extra,
    }


def _post(client, body):
    return client.post("/api/events/", data=json.dumps(body), content_type="application/json")


@pytest.mark.mongo
def test_event_api_requires_a_token(client, db):
    response = _post(client, [])
    assert response.status_code == 401


@pytest.mark.mongo
def test_event_api_stores_valid_events_and_reports_invalid_ones_by_index(api_client, own_customer):
    body = [
        _event(own_customer, idempotency_key="a"),
        _event(own_customer, event_type="teleport"),
        _event(own_customer, occurred_at="yesterday-ish"),
        {"event_type": "search"},
        _event(own_customer, event_type="search", properties={"query": "连衣裙"}, idempotency_key="b"),
    ]
    response = _post(api_client, body)
    assert response.status_code == 200
    result = response.json()
    assert result["stored"] == 2
    assert [error["index"] for error in result["errors"]] == [1, 2, 3]
    assert "event_type" in result["errors"][0]["errors"]
    assert "occurred_at" in result["errors"][1]["errors"]
    assert "customer_id" in result["errors"][2]["errors"]
    assert Event.objects.filter(customer=own_customer).count() == 2


@pytest.mark.mongo
def test_event_api_stores_a_repeated_idempotency_key_once(api_client, own_customer):
    body = [_event(own_customer, idempotency_key="same"), _event(own_customer, idempotency_key="same")]
    assert _post(api_client, body).json() == {"stored": 1, "duplicates": 1, "errors": []}
    assert _post(api_client, body[:1]).json() == {"stored": 0, "duplicates": 1, "errors": []}
    assert Event.objects.filter(idempotency_key="same").count() == 1


def test_event_api_without_key_dedupes_identical_events(api_client, own_customer):
    event = _event(own_customer)
    _post(api_client, [event])
    _post(api_client, [event])
    assert Event.objects.count() == 1


def test_event_api_rejects_batches_over_1000(api_client, own_customer):
    response = _post(api_client, [_event(own_customer)] * 1001)
    assert response.status_code == 413
    assert "1000" in response.json()["error"]
    assert not Event.objects.exists()


def test_event_api_accepts_external_ids_and_normalises_to_utc(api_client, own_customer):
    response = _post(
        api_client,
        {
            "events": [
                _event(
                    own_customer,
                    customer_id="",
                    customer_external_id="P-OWN",
                    occurred_at="2025-03-01T08:00:00+08:00",
                )
            ]
        },
    )
    assert response.json()["stored"] == 1
    event = Event.objects.get()
    assert event.occurred_at == datetime(2025, 3, 1, 0, 0, tzinfo=UTC)


def test_event_api_refuses_customers_the_token_user_cannot_see(client, sales_user, others_customer):
    from crm_site.api import api_token_create

    _token, key = api_token_create(name="sales app", user=sales_user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    result = _post(client, [_event(others_customer)]).json()
    assert result["stored"] == 0
    assert result["errors"][0]["index"] == 0


def _csv(rows):
    header = "customer_external_id,event_type,occurred_at,channel,idempotency_key,query\n"
    return io.BytesIO((header + "\n".join(rows)).encode())


@pytest.mark.mongo
def test_event_csv_import_writes_all_rows(manager_user, own_customer):
    result = events_import_csv(
        file=_csv(
            ["P-OWN,search,2025-01-02 10:00:00,app,k1,手机", "P-OWN,app_open,2025-01-02T11:00:00Z,app,k2,"]
        ),
        user=manager_user,
    )
    assert result.stored == 2
    assert Event.objects.get(idempotency_key="k1").properties == {"query": "手机"}


def test_event_csv_import_is_all_or_nothing_and_names_the_row(manager_user, own_customer):
    with pytest.raises(ValidationError) as error:
        events_import_csv(
            file=_csv(["P-OWN,search,2025-01-02 10:00:00,app,k1,", "NOPE,app_open,2025-01-02,app,k2,"]),
            user=manager_user,
        )
    assert "Row 3" in " ".join(error.value.messages)
    assert not Event.objects.exists()
