"""The customer picker in a real Chromium: the keyboard combobox with JavaScript, the radio step without,
and axe-core finding no critical or serious WCAG violation in either state (English and Chinese)."""

from __future__ import annotations

from typing import Any

import pytest

from crm_site.testing import axe_violations as _violations
from crm_site.testing import browser_login as _login
from crm_site.testing import describe_violations as _describe
from customers.tests.factories import ContactMethodFactory, CustomerFactory
from orders.models import ServiceOrder

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def namesakes(make_user) -> tuple[Any, Any]:
    sales = make_user("sales_a", "Sales")
    other = make_user("sales_b", "Sales")
    first = CustomerFactory(owner=sales, name="陈静 Chen Jing", external_id="CJ-1")
    ContactMethodFactory(customer=first, kind="mobile", value="139 1234 5678", is_primary=True)
    second = CustomerFactory(owner=sales, name="陈静 Chen Jing")
    ContactMethodFactory(customer=second, kind="email", value="chen.jing@example.com")
    CustomerFactory(owner=other, name="陈静 Chen Jing Private", external_id="CJ-THEIRS")
    return first, second


def _fill_ticket(page: Any) -> None:
    page.fill("input[name=subject]", "屏幕坏了 Broken screen")
    page.select_option("select[name=type]", "repair")
    page.select_option("select[name=priority]", "high")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_combobox_lists_visible_namesakes_and_chooses_by_keyboard(browser, live_server, namesakes, language):
    first, second = namesakes
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    _login(page, live_server.url, "sales_a", language)
    page.goto(f"{live_server.url}/orders/tickets/new/")
    box = page.locator("input[name=customer]")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("Chen Ji")
    options = page.locator("[role=listbox] [role=option]")
    options.first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    texts = options.all_inner_texts()
    assert len(texts) == 2 and not any("Private" in text for text in texts), texts
    status = page.locator(".customer-picker [role=status]")
    assert status.inner_text() == {"en": "2 customers found", "zh-hans": "找到 2 位客户"}[language]
    violations = _violations(page)  # with the suggestions open
    assert not violations, _describe(violations)

    box.press("ArrowDown")
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    chosen = page.locator(f"#{active}").inner_text()
    box.press("Enter")  # chooses; does not submit
    assert box.get_attribute("aria-expanded") == "false"
    label = box.input_value()
    assert label.startswith("陈静 Chen Jing · ") and label.split(" · ")[1] in chosen
    _fill_ticket(page)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    ticket = ServiceOrder.objects.get()
    expected = first if "CJ-1" in label else second
    assert ticket.customer == expected


@pytest.mark.parametrize("javascript", [False, True])
def test_submitting_a_shared_name_asks_to_choose_among_namesakes(browser, live_server, namesakes, javascript):
    """The search-then-choose step; with JavaScript on too (the same markup, and axe needs scripts)."""
    _first, second = namesakes
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 390, "height": 844})
    page = context.new_page()
    _login(page, live_server.url, "sales_a", "en")
    page.goto(f"{live_server.url}/orders/tickets/new/")
    page.fill("input[name=customer]", "Chen Jing")
    _fill_ticket(page)
    with page.expect_navigation():  # the form's own submit, whatever the suggestions do meanwhile
        page.locator("main form [type=submit]").evaluate("b => HTMLFormElement.prototype.submit.call(b.form)")
    radios = page.get_by_role("radio")
    assert radios.count() == 2 and "Private" not in page.content()
    assert page.locator("#id_customer_error").is_visible()  # "Several customers match ...", under the radios
    if javascript:
        violations = _violations(page)
        assert not violations, _describe(violations)
    page.get_by_label("陈静 Chen Jing · chen.jing@example.com").check()
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert ServiceOrder.objects.get().customer == second
    context.close()
