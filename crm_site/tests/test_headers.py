"""Security headers on every response, and production's own (docs/security.md "Headers")."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from crm_site import testing
from crm_site.testing import BASE_DIR

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/api/v1/schema/", "/healthz"])
def test_every_response_carries_the_security_headers(client, sales_user, path):
    client.force_login(sales_user)
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "unsafe-inline" not in policy
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    permissions = response["Permissions-Policy"]
    assert "camera=()" in permissions and "microphone=()" in permissions and "geolocation=()" in permissions


def test_production_settings_pass_check_deploy_and_send_hsts(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.production",
        "DJANGO_SECRET_KEY": "prod-test-" + secrets.token_urlsafe(48),
        "DJANGO_STATIC_ROOT": str(tmp_path),
        **testing.personal_data_keys_env(),
    }
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout
    settings = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE)",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert settings.stdout.split() == ["31536000", "True", "True"], settings.stderr
