"""The production set-up exactly as the README describes it, served by gunicorn and used over HTTP.

Production settings, DJANGO_SECRET_KEY from the environment, ``collectstatic`` into a fresh STATIC_ROOT,
``gunicorn crm_site.wsgi`` on a free local port, the test database passed through DATABASE_URL. A user
logs in through the login form (CSRF included) and opens the dashboard, the customer list and a customer
page. Not on MongoDB: the MongoDB-wire emulator is too slow for a second process serving pages.
"""

from __future__ import annotations

import http.client
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from crm_site import testing
from crm_site.testing import BASE_DIR, port_open

pytestmark = pytest.mark.usefixtures("transactional_db")

SECRET = "prod-test-" + secrets.token_urlsafe(48)
PASSWORD = "pw-prod_seller"


def production_env(static_root: Path, **extra: str) -> dict[str, str]:
    """Only what the README asks for: settings module, secret, database; plus a private STATIC_ROOT."""
    return {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.production",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_STATIC_ROOT": str(static_root),
        "DATABASE_URL": testing.test_database_url(),
        # gunicorn itself trusts X-Forwarded-Proto from 127.0.0.1; here the "proxy" is another host, so
        # only Django's SECURE_PROXY_SSL_HEADER (DJANGO_BEHIND_TLS_PROXY) decides what counts as HTTPS.
        "FORWARDED_ALLOW_IPS": "192.0.2.10",
        # Production sets its own keys (check --deploy warns otherwise); the same the test process
        # encrypts with, so the server reads the personal data the tests wrote.
        **testing.personal_data_keys_env(),
        **extra,
    }


@pytest.fixture(scope="module")
def static_root(tmp_path_factory, django_db_setup) -> Path:
    """``manage.py collectstatic --no-input`` under production settings (the manifest pages need)."""
    root = tmp_path_factory.mktemp("staticfiles")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input"],
        cwd=BASE_DIR,
        env=production_env(root),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "staticfiles.json").exists()
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(static_root: Path, **extra_env: str) -> Iterator[int]:
    """``gunicorn crm_site.wsgi`` on 127.0.0.1:<free port>; yields the port once it accepts connections."""
    port = free_port()
    log_path = static_root.parent / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "crm_site.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "120",
            ],
            cwd=BASE_DIR,
            env=production_env(static_root, **extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not port_open(f"http://127.0.0.1:{port}"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.2)
            yield port
        except BaseException:
            print(log_path.read_text(errors="replace"))  # shown with the failure
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output, output


class Browser:
    """A minimal HTTP client: keeps cookies itself (they are Secure, so no stock cookie jar sends them
    over the plain HTTP hop between the "proxy" and gunicorn) and adds the proxy's header if asked."""

    def __init__(self, port: int, *, forwarded_proto: str | None = "https"):
        self.port = port
        self.forwarded_proto = forwarded_proto
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    @property
    def origin(self) -> str:
        return f"{self.forwarded_proto or 'http'}://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> tuple[int, dict, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.forwarded_proto:
            headers["X-Forwarded-Proto"] = self.forwarded_proto
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header in response.msg.get_all("Set-Cookie") or []:
                self.set_cookie_headers.append(header)
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, {key.lower(): value for key, value in response.getheaders()}, text
        finally:
            connection.close()

    def get(self, path: str) -> tuple[int, dict, str]:
        return self.request("GET", path)

    def log_in(self, username: str, password: str) -> tuple[int, dict, str]:
        status, _headers, page = self.get("/accounts/login/")
        assert status == 200, page[:2000]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "the login form carries a CSRF token"
        return self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
        )


@pytest.fixture
def seller(make_user, settings):
    """A sales user whose password production can check (test settings hash with MD5 only)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    return make_user("prod_seller", "Sales")  # password "pw-prod_seller", hashed with PBKDF2


def test_collectstatic_then_gunicorn_serves_login_dashboard_customers_behind_a_tls_proxy(static_root, seller):
    from customers.tests.factories import CustomerFactory

    customer = CustomerFactory(name="Gunicorn Trading Co", owner=seller)
    with gunicorn(static_root, DJANGO_BEHIND_TLS_PROXY="1") as port:
        browser = Browser(port)
        status, headers, _body = browser.log_in(seller.username, PASSWORD)
        assert status == 302 and headers["location"] == "/", (status, headers)
        assert "sessionid" in browser.cookies

        status, headers, dashboard = browser.get("/")
        assert status == 200, dashboard[:2000]
        assert "<h1" in dashboard and "Dashboard" in dashboard
        assert "max-age=31536000" in headers["strict-transport-security"]
        # Pages link the hashed names from collectstatic's manifest, and WhiteNoise serves them.
        hashed_css = r'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css)"'
        stylesheet = re.search(hashed_css, dashboard)
        assert stylesheet, "the page links the manifest's hashed stylesheet"
        status, headers, _css = browser.get(stylesheet.group(1))
        assert status == 200 and "immutable" in headers["cache-control"]

        status, _headers, customer_list = browser.get("/customers/")
        assert status == 200, customer_list[:2000]
        assert "Gunicorn Trading Co" in customer_list

        status, _headers, detail = browser.get(f"/customers/{customer.pk}/")
        assert status == 200, detail[:2000]
        assert "Gunicorn Trading Co" in detail

    # Secure cookies stay on: the session and CSRF cookies are only ever sent back over HTTPS.
    for name in ("sessionid", "csrftoken"):
        cookie_headers = [header for header in browser.set_cookie_headers if header.startswith(f"{name}=")]
        assert cookie_headers and all("Secure" in header for header in cookie_headers), cookie_headers


def test_without_the_proxy_setting_a_forwarded_https_header_is_not_trusted(static_root, seller):
    with gunicorn(static_root) as port:
        # Plain HTTP is redirected to HTTPS...
        status, headers, _body = Browser(port, forwarded_proto=None).get("/accounts/login/")
        assert status == 301 and headers["location"] == f"https://127.0.0.1:{port}/accounts/login/"
        # ...and a client cannot talk its way past that by sending the proxy's header itself.
        status, headers, _body = Browser(port, forwarded_proto="https").get("/accounts/login/")
        assert status == 301 and headers["location"].startswith("https://")


def test_behind_the_proxy_plain_http_is_redirected_and_forwarded_https_is_served(static_root, seller):
    with gunicorn(static_root, DJANGO_BEHIND_TLS_PROXY="1") as port:
        # What the proxy forwards from plain HTTP, and a request that bypassed the proxy: both redirected.
        for proto in ("http", None):
            status, headers, _body = Browser(port, forwarded_proto=proto).get("/accounts/login/")
            assert status == 301 and headers["location"] == f"https://127.0.0.1:{port}/accounts/login/"
        browser = Browser(port, forwarded_proto="https")
        status, headers, _body = browser.log_in(seller.username, PASSWORD)
        # The login lands on the dashboard, served over "HTTPS" (no redirect loop back to https://).
        assert status == 302 and headers["location"] == "/"
        status, _headers, dashboard = browser.get("/")
        assert status == 200 and "Dashboard" in dashboard
