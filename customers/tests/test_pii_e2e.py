"""A real headless Chromium: a Marketing user sees a masked phone, reveals it with a reason in place."""

import pytest

from crm_site.audit.models import AuditEntry
from crm_site.testing import browser_login
from customers.tests.factories import ContactMethodFactory, CustomerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_marketing_reveals_a_masked_phone_in_place_giving_a_reason(browser, live_server, make_user):
    owner = make_user("pii_owner", "Sales")
    make_user("pii_mkt", "Marketing")
    customer = CustomerFactory(owner=owner, name="Reveal Me")
    ContactMethodFactory(customer=customer, kind="mobile", value="13800138000")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    browser_login(page, live_server.url, "pii_mkt")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    assert "138****8000" in page.content() and "13800138000" not in page.content()

    page.once("dialog", lambda dialog: dialog.accept("Customer asked for a call back"))
    page.click("[data-pii-reveal]")
    page.wait_for_selector(".pii-revealed")
    assert page.inner_text(".pii-revealed") == "13800138000"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REVEAL)
    assert entry.context["reason"] == "Customer asked for a call back"
