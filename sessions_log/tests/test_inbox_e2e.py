"""The unmatched inbox in a real Chromium: a sales user finds an unknown sender's mail, attaches it to a
customer through the picker (combobox with JavaScript, and the choose step without), remembers the
address, and reads the mail with its quoted text folded; axe-core on the inbox pages at phone width."""

from __future__ import annotations

import pytest

from crm_site.testing import axe_violations as _violations
from crm_site.testing import browser_login as _login
from crm_site.testing import describe_violations as _describe
from customers.tests.factories import CustomerFactory
from sessions_log.models import Interaction, UnmatchedItem

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False])
def test_a_sales_user_attaches_an_unknown_senders_mail_and_remembers_the_address(
    browser, live_server, make_user, javascript
):
    eve = make_user("eve", "Sales")
    customer = CustomerFactory(owner=eve, name="周敏 Zhou Min", external_id="ZM-1")
    CustomerFactory(owner=eve, name="周敏 Zhou Min Jr")
    UnmatchedItem.objects.create(
        channel="email", counterpart="zhou.min@mail.example", counterpart_name="周敏",
        subject="到货时间 Delivery", body="请问多久能到货？", quoted_text="> 您好，报价如下", received_by=eve,
    )  # fmt: skip
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 390, "height": 844})
    page = context.new_page()
    _login(page, live_server.url, "eve")
    page.goto(f"{live_server.url}/interactions/")
    page.get_by_role("link", name="Unmatched inbox").click()
    violations = _violations(page) if javascript else []
    assert not violations, _describe(violations)
    page.get_by_role("link", name="到货时间 Delivery").click()
    assert page.locator("details", has_text="Show quoted text").count() == 1
    assert not page.locator("details").get_attribute("open")
    if javascript:
        violations = _violations(page)
        assert not violations, _describe(violations)
        page.locator("input[name=customer]").press_sequentially("Zhou Min")
        page.locator("[role=listbox] [role=option]", has_text="ZM-1").click()
    else:
        page.fill("input[name=customer]", "Zhou Min")
        page.get_by_role("button", name="Attach").click()
        page.locator("label", has_text="ZM-1").click()  # two namesakes: choose one
    page.get_by_label("Remember zhou.min@mail.example as one of this customer's contact methods").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Attach").click()

    interaction = Interaction.objects.get()
    assert interaction.customer == customer and page.url.endswith(interaction.get_absolute_url())
    assert "Attached to 周敏 Zhou Min." in page.locator(".alert").inner_text()
    assert "zhou.min@mail.example" in {c.value_normalized for c in customer.contact_methods.all()}
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
