"""A manager's first login in a real browser: password, enrolment with the key on the page, dashboard;
then a login with a code, then one with a recovery code."""

from __future__ import annotations

import pyotp
import pytest

from crm_site.testing import axe_violations, describe_violations, totp_code_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _password(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def _log_out(page) -> None:
    page.click("nav a.dropdown-toggle")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")


def test_a_managers_first_login_enrols_then_logs_in_with_a_code_and_with_a_recovery_code(
    browser, live_server, make_user
):
    make_user("mgr", "Manager", first_name="Mei")
    base = live_server.url
    page = browser.new_page(viewport={"width": 1366, "height": 800})

    _password(page, base, "mgr")
    assert "/accounts/two-factor/setup/" in page.url
    assert page.locator("svg").first.is_visible()
    assert axe_violations(page) == [], describe_violations(axe_violations(page))
    # Password alone opens nothing else.
    page.goto(f"{base}/customers/")
    assert "/accounts/two-factor/" in page.url
    page.goto(f"{base}/accounts/two-factor/setup/?next=/")
    key = page.inner_text("[data-totp-key]").replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(key).now())
    page.click("main form button[type=submit]")
    page.wait_for_url("**/accounts/two-factor/recovery-codes/**")
    codes = page.locator("[data-recovery-codes] li").all_inner_texts()
    assert len(codes) == 10
    assert axe_violations(page) == [], describe_violations(axe_violations(page))
    page.click("main a.btn-primary")
    page.wait_for_url(f"{base}/")
    assert page.locator("h1").inner_text() == "Dashboard"

    _log_out(page)
    _password(page, base, "mgr")
    assert "/accounts/two-factor/?next=" in page.url
    assert axe_violations(page) == [], describe_violations(axe_violations(page))
    page.fill("input[name=code]", totp_code_for("mgr"))
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")

    _log_out(page)
    _password(page, base, "mgr")
    page.fill("input[name=code]", codes[0])
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "9 are left" in page.locator("main").inner_text()
    page.goto(f"{base}/admin/")
    assert page.url == f"{base}/admin/"
