"""A session ends after 30 minutes without a request and 12 hours after its login, whatever happens."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _logged_in_page(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/?next=/")
        return False
    assert response.status_code == 200
    return True


def test_a_session_idle_for_30_minutes_is_logged_out(client, sales_user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.post("/accounts/login/", {"username": "sales_a", "password": "pw-sales_a"})
        assert _logged_in_page(client)
        # Activity keeps it alive: a request every 29 minutes, for two hours.
        for _ in range(4):
            clock.shift(timedelta(minutes=29))
            assert _logged_in_page(client)
        clock.shift(timedelta(minutes=30, seconds=1))
        response = client.get("/customers/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/customers/"
        assert "_auth_user_id" not in client.session
        page = client.get(response["Location"]).content.decode()
        assert "Your session has expired. Please log in again." in page


def test_a_session_ends_12_hours_after_its_login_even_when_active(client, sales_user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.post("/accounts/login/", {"username": "sales_a", "password": "pw-sales_a"})
        for _ in range(35):  # 35 x 20 min = 11 h 40 min, never idle
            clock.shift(timedelta(minutes=20))
            assert _logged_in_page(client)
        clock.shift(timedelta(minutes=20, seconds=1))
        assert not _logged_in_page(client)
        # A new login starts a new 12 hours.
        client.post("/accounts/login/", {"username": "sales_a", "password": "pw-sales_a"})
        assert _logged_in_page(client)


def test_the_last_seen_time_is_written_at_most_once_a_minute(client, sales_user):
    """A page view does not cost a session write each time (query counts of every page stay as they were)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(sales_user)
        client.get("/")
        with CaptureQueriesContext(connection) as quiet:
            client.get("/")
        clock.shift(timedelta(seconds=61))
        with CaptureQueriesContext(connection) as writing:
            client.get("/")

    def session_writes(queries):
        return [q for q in queries if "django_session" in q["sql"] and q["sql"].startswith("UPDATE")]

    if connection.vendor != "mongodb":
        assert session_writes(quiet) == []
        assert len(session_writes(writing)) == 1
    assert len(writing) > len(quiet)
