"""/healthz reports the database and the broker, 200 when both answer, 503 naming the failing part."""

import pytest

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens on it once the socket is closed


def test_healthz_is_200_with_in_process_tasks_and_a_working_database(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["detail"].startswith("in-process")


def test_healthz_is_503_and_names_the_broker_when_redis_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing: broker"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


def test_healthz_is_503_and_names_the_database_when_the_database_is_unreachable():
    """A real site process whose DATABASE_URL points at a PostgreSQL port where nothing listens."""
    import json
    import subprocess
    import sys

    from crm_site.testing import BASE_DIR

    code = (
        "import django; django.setup(); from django.test import Client;"
        "r = Client(HTTP_HOST='127.0.0.1').get('/healthz'); print(r.status_code); print(r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "crm_site.settings.test",
            "DATABASE_URL": f"postgres://crm:crm@127.0.0.1:{_closed_port()}/crm",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-2:]
    assert status == "503"
    body = json.loads(body)
    assert body["status"] == "failing: database"
    assert body["database"]["ok"] is False
    assert body["database"]["detail"].startswith("OperationalError")
    assert body["broker"]["ok"] is True


def test_healthz_reports_a_live_redis_broker(client, settings):
    from crm_site.testing import TEST_REDIS_URL, need_service, port_open

    need_service("Redis", port_open(TEST_REDIS_URL))
    settings.CELERY_BROKER_URL = TEST_REDIS_URL
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == {"ok": True, "detail": "redis"}


def test_healthz_reports_the_embedded_filesystem_broker_and_its_waiting_tasks(client, settings, tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    (queue / "1_abc.celery.msg").write_text("{}")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(queue), "data_folder_out": str(queue)}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == {"ok": True, "detail": "embedded (filesystem queue, 1 waiting)"}
    assert str(tmp_path) not in response.content.decode()


def test_healthz_is_503_when_the_embedded_queue_folder_is_gone(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "failing: broker"
    assert str(tmp_path) not in response.content.decode()
