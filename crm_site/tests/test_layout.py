"""Layouts people complained about, in a real browser: the pipeline board at 1366 px, lists on a phone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_site.testing import browser_login as _login
from customers.tests.factories import CustomerFactory
from orders.models import Opportunity
from orders.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_board_column_won_and_lost_included_fits_1366_pixels(browser, live_server, make_user, language):
    eve = make_user("eve", "Sales")
    customer = CustomerFactory(owner=eve, name="Board Customer 看板客户")
    for stage in Opportunity.Stage.values:
        OpportunityFactory(
            customer=customer,
            owner=eve,
            stage=stage,
            name=f"A long opportunity name {stage}",
            amount=Decimal("123456789.00"),
        )
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    _login(page, live_server.url, "eve", language)
    page.goto(f"{live_server.url}/orders/opportunities/board/")
    columns = page.locator(".kanban-column")
    assert columns.count() == len(Opportunity.Stage.values)
    for index in range(columns.count()):
        box = columns.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1366, (index, box)
        header = columns.nth(index).locator(".card-header")
        overflow = header.evaluate("e => e.scrollWidth - e.clientWidth")
        assert overflow <= 0, f"column {index} header overflows by {overflow}px"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_customer_list_is_a_card_list_on_a_phone(browser, live_server, make_user, language):
    eve = make_user("eve", "Sales")
    CustomerFactory(owner=eve, name="欧阳娜娜 Nana Ouyang", company_name="Blue River Trading Company Limited")
    page = browser.new_page(viewport={"width": 390, "height": 800})
    _login(page, live_server.url, "eve", language)
    page.goto(f"{live_server.url}/customers/")
    table = page.locator("table.table-cards")
    # Nothing scrolls sideways, neither the page nor the table inside its wrapper.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert table.evaluate("t => t.parentElement.scrollWidth - t.parentElement.clientWidth") <= 0
    # One card a row: the cells stack, each with its label before it.
    company = page.locator("table.table-cards tbody td[data-label]").first
    label = company.evaluate("td => getComputedStyle(td, '::before').content")
    assert label.strip('"') == company.get_attribute("data-label")
    assert page.locator("table.table-cards thead").evaluate("h => h.getBoundingClientRect().height") <= 1
