"""The Content-Security-Policy in a real browser: no page of any role breaks it (docs/security.md "Headers").

The policy allows scripts and styles only from our own static files. Chromium reports each thing it
blocks (an inline <script>, an on...= handler, a <style> block, a style="" attribute, a script from
elsewhere) both on the console and as a ``securitypolicyviolation`` event; the test collects both on
every main page of sales, marketing and manager (admin pages and the API docs page included) and expects
none. A template that gains an inline style or script fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from crm_site.testing import browser_login
from crm_site.tests.test_accessibility import _site
from sessions_log.models import Interaction, UnmatchedItem

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Runs in every document before its own scripts (injected by the browser, so not subject to the policy).
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
                    e.sourceFile + ":" + e.lineNumber);
});
"""


PAGE_TIMEOUT_MS = 90_000


def _visit_all(page: Any, base_url: str, pages: dict[str, str]) -> list[str]:
    found: list[str] = []
    for name, path in pages.items():
        # ~60 pages a role, served one at a time by the live server: on a busy 2-core CI machine one of
        # them has taken over Playwright's default 30 s to go quiet (a CI run of 2026-12-02).
        page.goto(f"{base_url}{path}", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
        found += [f"{name} ({path}): {line}" for line in page.evaluate("window.__csp || []")]
    return found


def _browser_page(browser: Any, console: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.add_init_script(COLLECT_VIOLATIONS)
    page.on(
        "console",
        lambda message: console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return page


@pytest.mark.parametrize("role", ["Sales", "Marketing", "Manager"])
def test_no_page_of_any_role_breaks_the_content_security_policy(browser, live_server, make_user, role):
    sales = make_user("sales_a", "Sales")
    user = sales if role == "Sales" else make_user(role.lower(), role)
    if role == "Manager":
        user.is_superuser = True  # every admin page
        user.save()
    pages = _site(sales)
    customer_path = pages["customer detail"]
    interaction = Interaction.objects.create(
        customer_id=customer_path.rstrip("/").rsplit("/", 1)[-1], channel="email", staff=sales, body="Hi"
    )
    pages |= {
        "interactions": "/interactions/",
        "interaction detail": f"/interactions/{interaction.pk}/",
        "follow-ups": "/interactions/follow-ups/",
        "inbox": "/interactions/inbox/",
        "email compose": f"/interactions/email/{interaction.customer_id}/",
        "search": "/search/?q=Chen",
        "api docs": "/api/v1/docs/",
    }
    if role == "Manager":
        unmatched = UnmatchedItem.objects.create(
            channel="email", counterpart="who@example.com", subject="Hello", body="Who am I?"
        )
        pages |= {
            "inbox detail": f"/interactions/inbox/{unmatched.pk}/",
            "follow-ups team": "/interactions/follow-ups/team/",
            "admin retention runs": "/admin/crm_site/retentionrun/",
            "admin index": "/admin/",
            "admin customers": "/admin/customers/customer/",
            "admin customer change": f"/admin/customers/customer/{interaction.customer_id}/change/",
            "admin token add": "/admin/crm_site/apitoken/add/",
            "admin users": "/admin/auth/user/",
            "admin user change": f"/admin/auth/user/{sales.pk}/change/",
            "admin periodic tasks": "/admin/django_celery_beat/periodictask/",
        }
    console: list[str] = []
    page = _browser_page(browser, console)
    browser_login(page, live_server.url, user.username)
    found = _visit_all(page, live_server.url, pages)
    assert not found, "\n".join(found)
    assert not console, "\n".join(console)


def test_the_policy_header_is_on_every_page_without_unsafe_inline(client, sales_user):
    client.force_login(sales_user)
    for path in ["/", "/customers/", "/accounts/login/", "/admin/login/"]:
        header = client.get(path)["Content-Security-Policy"]
        assert "script-src 'self'" in header and "style-src 'self'" in header, path
        assert "unsafe-inline" not in header and "unsafe-eval" not in header, path
