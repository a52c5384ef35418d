import csv
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


def test_event_api_requires_a_token(client, db):
    response = _post(client, [])
    assert response.status_code == 401


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


def _csv_error(content: bytes, user) -> str:
    with pytest.raises(ValidationError) as error:
        events_import_csv(file=io.BytesIO(content), user=user)
    assert not Event.objects.exists()
    return " ".join(error.value.messages)


def test_event_csv_import_refuses_a_file_that_is_not_utf8(manager_user, own_customer):
    content = "customer_external_id,event_type,occurred_at,query\nP-OWN,search,2025-01-02,手机\n".encode(
        "gbk"
    )
    assert "not UTF-8" in _csv_error(content, manager_user)


def test_event_csv_import_refuses_a_binary_file(manager_user, own_customer):
    content = b"customer_external_id,event_type,occurred_at\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    assert "binary" in _csv_error(content, manager_user)


def test_event_csv_import_refuses_a_cell_over_the_csv_field_limit(manager_user, own_customer):
    huge = "x" * (csv.field_size_limit() + 10)
    content = (
        f'customer_external_id,event_type,occurred_at,query\nP-OWN,search,2025-01-02,"{huge}"\n'.encode()
    )
    assert "Line 2" in _csv_error(content, manager_user)


def test_event_csv_import_refuses_duplicate_column_names(manager_user, own_customer):
    content = b"customer_external_id,event_type,occurred_at,event_type\nP-OWN,app_open,2025-01-02,search\n"
    assert "event_type" in _csv_error(content, manager_user)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("P-OWN,app_open,1500-01-01,,", "occurred_at"),
        ("P-OWN,app_open,0001-01-01T00:00:00+14:00,,", "occurred_at"),
        ("P-OWN,search,2025-01-02,,", "properties"),
        ('P-OWN,app_open,2025-01-02,"{""a"": NaN}",', "properties"),
        ('P-OWN,app_open,2025-01-02,"' + "[" * 5000 + '",', "properties"),
        ('P-OWN,app_open,2025-01-02,"[1, 2]",', "properties"),
        ("P-OWN,app_open,2025-01-02,," + "c" * 31, "channel"),
    ],
)
def test_event_csv_import_names_the_bad_field_of_the_row(manager_user, own_customer, row, field):
    content = ("customer_external_id,event_type,occurred_at,properties,channel\n" + row + "\n").encode()
    assert f"Row 2: {field}:" in _csv_error(content, manager_user)


def test_event_csv_import_treats_an_invisible_customer_as_unknown(sales_user, own_customer, others_customer):
    hidden = _csv_error(_csv(["P-OTHER,app_open,2025-01-02,app,k1,"]).getvalue(), sales_user)
    unknown = _csv_error(_csv(["NOPE,app_open,2025-01-02,app,k1,"]).getvalue(), sales_user)
    assert hidden == unknown and "Row 2" in hidden
    assert events_import_csv(file=_csv(["P-OWN,app_open,2025-01-02,app,k1,"]), user=sales_user).stored == 1


def test_event_csv_import_keys_are_the_importers_own(manager_user, sales_user, own_customer):
    assert events_import_csv(file=_csv(["P-OWN,app_open,2025-01-02,app,k1,"]), user=sales_user).stored == 1
    result = events_import_csv(file=_csv(["P-OWN,page_view,2025-01-03,app,k1,"]), user=manager_user)
    assert (result.stored, result.duplicates) == (1, 0)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            "customer_external_id,event_type,occurred_at\nP-OWN,app_open,2025-01-02,商店\n".encode("gb18030"),
            "UTF-8",
        ),
        (b"\x00\x01\x02\x03" * 100, "binary"),
        (
            b'customer_external_id,event_type,occurred_at\nP-OWN,app_open,"' + b"x" * 2_000_000 + b'"\n',
            "Line 2",
        ),
    ],
)
def test_event_import_page_answers_a_form_error_for_an_unreadable_file(
    client, manager_user, own_customer, content, words
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(manager_user)
    response = client.post(
        reverse("profiles:event-import"), {"file": SimpleUploadedFile("e.csv", content, "text/csv")}
    )
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not Event.objects.exists()


def test_event_csv_import_refuses_a_file_over_the_size_limit(settings, manager_user, own_customer):
    settings.PROFILES_EVENT_CSV_MAX_MB = 1
    rows = [f"P-OWN,app_open,2025-01-02,app,k{i},{'x' * 100}" for i in range(12_000)]
    assert "too large (at most 1 MB)" in _csv_error(_csv(rows).getvalue(), manager_user)
