"""/healthz reports the database and the broker, 200 when both answer, 503 naming the failing part."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.mongo]


def test_healthz_is_200_with_in_process_tasks_and_a_working_database(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["detail"].startswith("in-process")


def test_healthz_is_503_and_names_the_broker_when_redis_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing: broker"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


def test_healthz_is_503_and_names_the_database_when_a_query_fails(client, settings, monkeypatch):
    from django.contrib.contenttypes.models import ContentType

    def broken(*args, **kwargs):
        raise ConnectionError("database went away")

    settings.CELERY_BROKER_URL = ""
    monkeypatch.setattr(ContentType.objects, "exists", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "failing: database"
    assert "database went away" in response.json()["database"]["detail"]


def test_healthz_reports_a_live_redis_broker(client, settings):
    from crm_site.testing import TEST_REDIS_URL, need_service, port_open

    need_service("Redis", port_open(TEST_REDIS_URL))
    settings.CELERY_BROKER_URL = TEST_REDIS_URL
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == {"ok": True, "detail": "redis"}
