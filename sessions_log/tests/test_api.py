"""The call centre and online consultation API: calls, chats and interactions under /api/v1/."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm_site.api import api_token_create
from crm_site.models import ApiToken
from customers.models import ContactMethod
from customers.tests.factories import ContactMethodFactory, CustomerFactory
from sessions_log.models import ExternalReference, Interaction, UnmatchedItem

pytestmark = pytest.mark.django_db

Scope = ApiToken.Scope
ALL = (Scope.CALLS_WRITE, Scope.CHATS_WRITE, Scope.INTERACTIONS_READ, Scope.INTERACTIONS_WRITE)
STARTED = "2026-11-30T09:30:00+08:00"


@pytest.fixture
def key(sales_user):
    return api_token_create(name="pbx", user=sales_user, scopes=ALL)[1]


@pytest.fixture
def customer(sales_user):
    customer = CustomerFactory(owner=sales_user, name="Wang Fang")
    ContactMethodFactory(customer=customer, kind=ContactMethod.Kind.MOBILE, value="138 0013 8000")
    ContactMethodFactory(customer=customer, kind=ContactMethod.Kind.EMAIL, value="Wang.Fang@Example.com")
    return customer


@pytest.fixture
def others_customer(other_sales_user):
    customer = CustomerFactory(owner=other_sales_user, name="Hidden Li", external_id="HID-1")
    ContactMethodFactory(customer=customer, kind=ContactMethod.Kind.MOBILE, value="13900139000")
    ContactMethodFactory(customer=customer, kind=ContactMethod.Kind.EMAIL, value="li@example.com")
    return customer


def _post(path, body, key):
    return Client().post(
        path, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def _get(path, key, **params):
    return Client().get(path, params, HTTP_AUTHORIZATION=f"Bearer {key}")


def _call(**fields):
    return {"number": "13800138000", "direction": "inbound", "started_at": STARTED, **fields}


@pytest.mark.parametrize("number", ["+86 138-0013-8000", "0086 13800138000", "(138) 0013 8000", 13800138000])
def test_a_call_from_a_known_number_in_any_spelling_is_logged_on_its_customer(
    key, customer, sales_user, number
):
    response = _post(
        "/api/v1/calls/",
        _call(
            number=number, duration_seconds=95, outcome="reached", recording_url="https://pbx.example/r/1.mp3"
        ),
        key,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "created" and body["matched"] is True and body["unmatched"] is None
    interaction = Interaction.objects.get(pk=body["interaction"])
    assert interaction.customer == customer and interaction.channel == "call"
    assert interaction.staff == sales_user and interaction.direction == "inbound"
    assert interaction.duration_seconds == 95 and interaction.outcome == "reached"
    assert interaction.recording_url == "https://pbx.example/r/1.mp3"
    assert interaction.occurred_at == datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    assert interaction.counterpart == str(number)


def test_a_call_from_another_sales_users_customer_is_parked_and_names_no_one(
    key, others_customer, sales_user
):
    response = _post("/api/v1/calls/", _call(number="+86 139 0013 9000", external_id="c-1"), key)
    assert response.status_code == 201
    body = response.json()
    assert body["matched"] is False and body["interaction"] is None
    text = response.content.decode()
    assert str(others_customer.pk) not in text and "Hidden" not in text
    item = UnmatchedItem.objects.get(pk=body["unmatched"])
    assert item.channel == "call" and item.counterpart == "+86 139 0013 9000"
    assert item.received_by == sales_user and item.status == UnmatchedItem.Status.OPEN
    assert not Interaction.objects.filter(customer=others_customer).exists()
    # Exactly what an unknown number gets.
    unknown = _post("/api/v1/calls/", _call(number="02155550000", external_id="c-2"), key).json()
    assert set(unknown) == set(body) and unknown["matched"] is False


def test_a_call_the_manager_posts_matches_every_customer(manager_user, others_customer):
    _token, key = api_token_create(name="pbx", user=manager_user, scopes=[Scope.CALLS_WRITE])
    body = _post("/api/v1/calls/", _call(number="13900139000"), key).json()
    assert Interaction.objects.get(pk=body["interaction"]).customer == others_customer


def test_the_same_external_id_twice_is_stored_once(key, customer):
    first = _post("/api/v1/calls/", _call(external_id="pbx-8812"), key)
    again = _post("/api/v1/calls/", _call(external_id="pbx-8812", duration_seconds=5), key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["interaction"] == first.json()["interaction"]
    assert Interaction.objects.filter(customer=customer).count() == 1
    assert ExternalReference.objects.filter(external_id="pbx-8812").count() == 1


def test_external_ids_are_per_token(sales_user, key, customer):
    _token, other_key = api_token_create(name="chat", user=sales_user, scopes=[Scope.CALLS_WRITE])
    assert _post("/api/v1/calls/", _call(external_id="x"), key).status_code == 201
    assert _post("/api/v1/calls/", _call(external_id="x"), other_key).status_code == 201
    assert Interaction.objects.filter(customer=customer).count() == 2


def test_a_batch_stores_each_record_once_even_when_it_repeats_an_id(key, customer):
    batch = [_call(external_id="a"), _call(external_id="b", number="021-5555-0000"), _call(external_id="a")]
    response = _post("/api/v1/calls/", batch, key)
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["duplicates"], body["matched"], body["unmatched"]) == (2, 1, 1, 1)
    assert [r["status"] for r in body["results"]] == ["created", "created", "duplicate"]
    assert body["results"][2]["interaction"] == body["results"][0]["interaction"]
    assert Interaction.objects.count() == 1 and UnmatchedItem.objects.count() == 1
    again = _post("/api/v1/calls/", {"calls": batch}, key)
    assert again.status_code == 200 and again.json()["duplicates"] == 3


def test_a_batch_with_invalid_records_stores_nothing_and_names_each_index_and_field(key, customer):
    batch = [
        _call(external_id="ok"),
        {"direction": "inbound", "started_at": STARTED},
        _call(direction="sideways", duration_seconds=-1),
        _call(started_at=(timezone.now() + timedelta(days=3)).isoformat()),
        "not an object",
    ]
    response = _post("/api/v1/calls/", batch, key)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "4 of 5" in body["detail"]
    errors = {item["index"]: item["errors"] for item in body["items"]}
    assert set(errors) == {1, 2, 3, 4}
    assert list(errors[1]) == ["number"]
    assert set(errors[2]) == {"direction", "duration_seconds"}
    assert "a day ahead" in errors[3]["started_at"][0]
    assert list(errors[4]) == ["non_field_errors"]
    assert not Interaction.objects.exists() and not ExternalReference.objects.exists()


def test_one_invalid_call_gets_its_field_errors(key):
    response = _post(
        "/api/v1/calls/", _call(started_at="yesterday", recording_url="ftp:/x", outcome="maybe"), key
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"started_at", "recording_url", "outcome"}
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


def test_a_batch_over_500_calls_is_refused(key):
    response = _post("/api/v1/calls/", [_call()] * 501, key)
    assert response.status_code == 413
    assert "500" in response.json()["detail"]


def test_the_agent_is_named_by_username_or_email_and_an_unknown_one_is_a_field_error(
    key, customer, make_user
):
    agent = make_user("agent7", "Service", email="Agent7@Example.com")
    by_name = _post("/api/v1/calls/", _call(agent="agent7"), key).json()
    by_email = _post("/api/v1/calls/", _call(agent="agent7@example.com"), key).json()
    assert Interaction.objects.get(pk=by_name["interaction"]).staff == agent
    assert Interaction.objects.get(pk=by_email["interaction"]).staff == agent
    response = _post("/api/v1/calls/", [_call(), _call(agent="nobody")], key)
    assert response.status_code == 400
    assert response.json()["items"] == [
        {"index": 1, "errors": {"agent": ["No active staff member has this username or email address."]}}
    ]
    assert Interaction.objects.count() == 2


def test_a_batch_of_500_calls_reads_as_often_as_a_batch_of_50(key, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads(size: int, tag: str) -> list[str]:
        batch = [_call(external_id=f"{tag}-{i}", number=f"13800{i:06d}") for i in range(size)]
        batch[0]["number"] = "138-0013-8000"  # one of them the customer's
        with CaptureQueriesContext(connection) as queries:
            response = _post("/api/v1/calls/", batch, key)
        assert response.status_code == 201
        assert (response.json()["created"], response.json()["matched"]) == (size, 1)
        # Inserts are bulk (SQLite splits them at its variable limit); everything else is per batch.
        return [
            q["sql"]
            for q in queries.captured_queries
            if "INSERT" not in q["sql"] and "insert" not in q["sql"]
        ]

    reads(5, "warm")  # the token's first use of the minute also records it
    assert len(reads(500, "big")) == len(reads(50, "small"))
    assert Interaction.objects.count() + UnmatchedItem.objects.count() == 555


def _chat(**fields):
    return {
        "email": "wang.fang@example.com",
        "subject": "Where is my parcel",
        "external_id": "chat-1",
        "messages": [
            {"at": "2026-11-30T10:02:00Z", "speaker": "agent", "text": "It left today."},
            {"at": "2026-11-30T10:00:00Z", "speaker": "customer", "text": "Where is my parcel?"},
        ],
        **fields,
    }


def test_a_chat_is_logged_on_the_customer_its_email_names_with_the_transcript_in_order(key, customer):
    response = _post("/api/v1/chats/", _chat(), key)
    assert response.status_code == 201
    interaction = Interaction.objects.get(pk=response.json()["interaction"])
    assert interaction.customer == customer and interaction.channel == "chat"
    assert [m["speaker"] for m in interaction.transcript] == ["customer", "agent"]
    assert interaction.transcript[0] == {
        "at": "2026-11-30T10:00:00+00:00",
        "speaker": "customer",
        "text": "Where is my parcel?",
    }
    assert interaction.occurred_at == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert interaction.duration_seconds == 120 and interaction.subject == "Where is my parcel"
    assert _post("/api/v1/chats/", _chat(), key).json()["status"] == "duplicate"


def test_a_chat_matches_by_external_id_or_phone(key, customer):
    customer.external_id = "C-77"
    customer.save()
    by_id = _post("/api/v1/chats/", _chat(email="", customer_external_id="C-77", external_id="a"), key).json()
    by_phone = _post("/api/v1/chats/", _chat(email="", phone="+8613800138000", external_id="b"), key).json()
    assert Interaction.objects.get(pk=by_id["interaction"]).customer == customer
    assert Interaction.objects.get(pk=by_phone["interaction"]).customer == customer


def test_a_chat_of_another_users_customer_waits_unmatched_with_its_transcript(key, others_customer):
    response = _post(
        "/api/v1/chats/", _chat(email="li@example.com", customer_external_id="HID-1", name="Li"), key
    )
    body = response.json()
    assert body["matched"] is False and "Hidden" not in response.content.decode()
    item = UnmatchedItem.objects.get(pk=body["unmatched"])
    assert item.channel == "chat" and item.counterpart == "li@example.com" and item.counterpart_name == "Li"
    assert len(item.transcript) == 2


def test_a_chat_needs_a_customer_key_and_valid_messages(key):
    response = _post(
        "/api/v1/chats/",
        _chat(email="", messages=[{"at": "soon", "speaker": "agent", "text": "hi"}]),
        key,
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "at" in errors["messages"]["0"]
    empty = _post("/api/v1/chats/", _chat(email="", messages=[]), key).json()["errors"]
    assert "messages" in empty
    nobody = _post("/api/v1/chats/", _chat(email=""), key).json()["errors"]
    assert "customer_external_id" in nobody


def test_each_endpoint_needs_its_own_scope(sales_user):
    _token, key = api_token_create(name="calls only", user=sales_user, scopes=[Scope.CALLS_WRITE])
    assert _post("/api/v1/chats/", _chat(), key).status_code == 403
    assert _get("/api/v1/interactions/", key).status_code == 403
    assert _post("/api/v1/interactions/", {}, key).status_code == 403


def _log(customer, when, **fields):
    return Interaction.objects.create(customer=customer, channel="note", occurred_at=when, **fields)


def test_the_list_holds_only_interactions_of_customers_the_user_may_see(key, customer, others_customer):
    now = timezone.now()
    mine = [_log(customer, now - timedelta(hours=hours)) for hours in range(5)]
    _log(others_customer, now)
    response = _get("/api/v1/interactions/", key, limit=2)
    assert response.status_code == 200
    seen, page = [], response.json()
    while True:
        seen += [row["id"] for row in page["results"]]
        if not page["next"]:
            break
        page = Client().get(page["next"], HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert seen == [str(row.pk) for row in mine]
    assert str(others_customer.pk) not in json.dumps(page)


def test_the_list_filters_by_customer_and_since(key, customer, sales_user):
    other_mine = CustomerFactory(owner=sales_user)
    now = timezone.now()
    recent = _log(customer, now - timedelta(hours=1))
    _log(customer, now - timedelta(days=3))
    _log(other_mine, now)
    since = (now - timedelta(days=1)).isoformat()
    rows = _get("/api/v1/interactions/", key, customer=str(customer.pk), since=since).json()["results"]
    assert [row["id"] for row in rows] == [str(recent.pk)]
    assert rows[0]["customer"] == str(customer.pk)


def test_the_list_refuses_another_users_customer_as_it_refuses_an_unknown_one(key, others_customer):
    hidden = _get("/api/v1/interactions/", key, customer=str(others_customer.pk))
    unknown = _get("/api/v1/interactions/", key, customer="00000000-0000-0000-0000-000000000000")
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json() == unknown.json()
    bad = _get("/api/v1/interactions/", key, cursor="garbage", limit=0)
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"limit"}
    assert set(_get("/api/v1/interactions/", key, cursor="garbage").json()["errors"]) == {"cursor"}


def test_an_interaction_posted_is_logged_once_per_external_id(key, customer, sales_user):
    body = {"customer": str(customer.pk), "channel": "visit", "subject": "Showroom", "external_id": "v-1"}
    first = _post("/api/v1/interactions/", body, key)
    assert first.status_code == 201
    interaction = Interaction.objects.get(pk=first.json()["interaction"])
    assert interaction.channel == "visit" and interaction.staff == sales_user
    again = _post("/api/v1/interactions/", body, key)
    assert again.status_code == 200 and again.json()["interaction"] == first.json()["interaction"]


def test_an_interaction_on_another_users_customer_is_refused_like_an_unknown_one(key, others_customer):
    hidden = _post("/api/v1/interactions/", {"customer": str(others_customer.pk), "channel": "note"}, key)
    by_key = _post("/api/v1/interactions/", {"customer_external_id": "HID-1", "channel": "note"}, key)
    assert hidden.status_code == by_key.status_code == 400
    assert hidden.json() == by_key.json()
    assert list(hidden.json()["errors"]) == ["customer"]
    assert not Interaction.objects.exists()


def test_the_list_reads_a_fixed_number_of_times_whatever_the_history(key, customer, sales_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def reads() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert _get("/api/v1/interactions/", key, limit=5).status_code == 200
        return len(queries)

    now = timezone.now()
    for hours in range(10):
        _log(customer, now - timedelta(hours=hours), staff=sales_user)
    reads()  # the token's first use of the minute also records it
    few = reads()
    for hours in range(10, 40):
        _log(CustomerFactory(owner=sales_user), now - timedelta(hours=hours), staff=sales_user)
    assert reads() == few


def test_managers_read_the_callers_ids_in_the_admin_and_nobody_edits_them(key, customer, client, make_user):
    assert _post("/api/v1/calls/", _call(external_id="pbx-7781"), key).status_code in (200, 201)
    reference = ExternalReference.objects.get(external_id="pbx-7781")
    boss = make_user("boss", "Manager")
    boss.is_staff = True
    boss.save()
    client.force_login(boss)
    listing = client.get("/admin/sessions_log/externalreference/")
    assert listing.status_code == 200 and "pbx-7781" in listing.content.decode()
    page = client.get(f"/admin/sessions_log/externalreference/{reference.pk}/change/").content.decode()
    assert 'name="_save"' not in page  # read-only: the API writes them
    assert client.get("/admin/sessions_log/externalreference/add/").status_code == 403
