"""Login lockout: 5 failures per username and per address lock both for 15 minutes; the client address
behind proxies; the same message whether or not the account exists."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.test import RequestFactory, override_settings
from django.utils import timezone

from crm_site.security.client_ip import client_ip
from crm_site.security.lockout import login_lockout_clear
from crm_site.testing import TEST_REDIS_URL, need_service, port_open

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts for this account or from this address. Try again in 15 minutes."
WRONG = "Please enter a correct username and password"


def _login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_lock_the_account_after_five_and_the_lock_ends_after_15_minutes(
    client, sales_user
):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answers = [_login(client, "sales_a", f"guess-{n}").content.decode() for n in range(30)]
        assert [WRONG in a for a in answers[:4]] == [True] * 4
        assert all(LOCKED in a and WRONG not in a for a in answers[4:]), "5th and later: locked"

        # The right password is refused too while locked, and nobody is logged in.
        assert LOCKED in _login(client, "sales_a", "pw-sales_a").content.decode()
        assert not _logged_in(client)

        clock.shift(timedelta(minutes=14, seconds=59))
        assert LOCKED in _login(client, "sales_a", "pw-sales_a").content.decode()
        clock.shift(timedelta(seconds=2))
        response = _login(client, "sales_a", "pw-sales_a")
        assert response.status_code == 302 and _logged_in(client)


def test_five_failures_from_one_address_lock_that_address_for_every_username(client, sales_user):
    for n in range(5):
        _login(client, f"nobody{n}", "x", REMOTE_ADDR="198.51.100.7")
    refused = _login(client, "sales_a", "pw-sales_a", REMOTE_ADDR="198.51.100.7")
    assert LOCKED in refused.content.decode() and not _logged_in(client)
    # The account itself is not locked: from another address it logs in.
    assert _login(client, "sales_a", "pw-sales_a", REMOTE_ADDR="198.51.100.8").status_code == 302


def test_five_failures_for_one_username_lock_it_from_every_address(client, sales_user):
    for n in range(5):
        _login(client, "sales_a", "x", REMOTE_ADDR=f"198.51.100.{n + 1}")
    refused = _login(client, "SALES_A ", "pw-sales_a", REMOTE_ADDR="198.51.100.99")
    assert LOCKED in refused.content.decode()
    assert LOCKED in _login(client, "sales_a", "pw-sales_a", REMOTE_ADDR="198.51.100.99").content.decode()
    assert not _logged_in(client)


def test_the_lock_reads_the_same_for_an_unknown_and_an_existing_username(client, sales_user):
    for _ in range(5):
        _login(client, "sales_a", "x", REMOTE_ADDR="192.0.2.1")
        _login(client, "no-such-user", "x", REMOTE_ADDR="192.0.2.2")
    existing = _login(client, "sales_a", "x", REMOTE_ADDR="192.0.2.1").content.decode()
    unknown = _login(client, "no-such-user", "x", REMOTE_ADDR="192.0.2.2").content.decode()
    assert LOCKED in existing and LOCKED in unknown
    strip = lambda page: page.replace("sales_a", "U").replace("no-such-user", "U")  # noqa: E731
    csrf = lambda page: "\n".join(line for line in page.splitlines() if "csrf" not in line)  # noqa: E731
    assert csrf(strip(existing)) == csrf(strip(unknown))


def test_a_successful_login_clears_the_usernames_failures_but_not_the_addresses(
    client, sales_user, make_user
):
    make_user("sales_c", "Sales")
    for _ in range(4):
        _login(client, "sales_a", "x")
    assert _login(client, "sales_a", "pw-sales_a").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        _login(client, "sales_a", "x", REMOTE_ADDR="192.0.2.50")
    # Four more for the user are fine (the login cleared its count) ...
    assert _login(client, "sales_a", "pw-sales_a", REMOTE_ADDR="192.0.2.51").status_code == 302
    client.post("/accounts/logout/")
    # ... but 127.0.0.1 has 4 failures from before the success and one more locks it.
    assert LOCKED in _login(client, "sales_c", "x").content.decode()


def test_every_authenticate_call_is_refused_while_locked_not_only_the_form(client, sales_user):
    for _ in range(5):
        _login(client, "sales_a", "x")
    request = RequestFactory().post("/anything/")
    assert authenticate(request, username="sales_a", password="pw-sales_a") is None
    assert (
        authenticate(
            RequestFactory().post("/", REMOTE_ADDR="192.0.2.9"), username="sales_a", password="pw-sales_a"
        )
        is None
    )


def test_a_spoofed_forwarded_for_is_ignored_without_trusted_proxies(client, sales_user):
    for n in range(5):
        _login(client, "x", "x", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    # Rotating the header did not rotate the address: 127.0.0.1 is locked.
    assert (
        LOCKED
        in _login(client, "sales_a", "pw-sales_a", HTTP_X_FORWARDED_FOR="203.0.113.77").content.decode()
    )


@override_settings(CRM_TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_address_it_saw_is_locked_not_the_proxy(client, sales_user):
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(5):
        # The client wrote a fake first hop; the proxy appended the real one.
        _login(client, f"x{n}", "x", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.5", **proxy)
    locked = _login(client, "sales_a", "pw-sales_a", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    assert LOCKED in locked.content.decode()
    other_client = _login(client, "sales_a", "pw-sales_a", HTTP_X_FORWARDED_FOR="203.0.113.6", **proxy)
    assert other_client.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "10.0.0.2"),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "203.0.113.5"),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.5"}, "203.0.113.5"),
        (
            2,
            {"REMOTE_ADDR": "10.0.0.3", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.5, 10.0.0.2"},
            "203.0.113.5",
        ),
        (2, {"REMOTE_ADDR": "10.0.0.3", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "10.0.0.3"),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-ip"}, "10.0.0.2"),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": " 2001:db8::1 "}, "2001:db8::1"),
        (1, {"REMOTE_ADDR": "10.0.0.2"}, "10.0.0.2"),
    ],
)
def test_client_ip_trusts_forwarded_for_only_as_far_as_the_setting_says(settings, proxies, meta, expected):
    settings.CRM_TRUSTED_PROXY_COUNT = proxies
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_lockout_counts_on_the_shared_redis_cache(client, sales_user, settings):
    """Production keeps the counters in Redis (every web process sees them): the same rule there."""
    need_service("Redis", port_open(TEST_REDIS_URL))
    settings.CACHES = {
        **settings.CACHES,
        "lockout_redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": f"lockout-test-{uuid.uuid4().hex}",
        },
    }
    settings.CRM_LOCKOUT_CACHE = "lockout_redis"
    try:
        for _ in range(4):
            assert WRONG in _login(client, "sales_a", "x", REMOTE_ADDR="192.0.2.77").content.decode()
        assert LOCKED in _login(client, "sales_a", "x", REMOTE_ADDR="192.0.2.77").content.decode()
        assert LOCKED in _login(client, "sales_a", "pw-sales_a", REMOTE_ADDR="192.0.2.78").content.decode()
    finally:
        for ip in ("192.0.2.77", "192.0.2.78"):
            login_lockout_clear(username="sales_a", ip=ip)
