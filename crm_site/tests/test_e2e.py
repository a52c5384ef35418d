"""A real headless Chromium logs in and looks at the dashboard, on a phone and a desktop."""

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_browser_logs_in_and_sees_the_dashboard(browser, live_server, make_user, tmp_path):
    make_user("eve", "Sales", first_name="Eve", last_name="Example")
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "eve")
    page.fill("input[name=password]", "pw-eve")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("nav a.nav-link", has_text=re.compile(r"^\s*Customers\s*$")).count() == 1
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    toggler = page.locator(".navbar-toggler")
    assert toggler.is_visible(), "the navigation collapses behind a toggler at phone width"
    toggler.click()
    # Click only once the collapse animation has finished, or the click can land on a moving button.
    page.wait_for_selector("#main-nav.collapse.show", state="visible")
    with page.expect_navigation():
        page.get_by_role("button", name="简体中文").click()
    assert page.locator("h1").inner_text() == "仪表板"
