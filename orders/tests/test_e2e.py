"""A real headless Chromium: a sales user creates an order with a line, confirms it, and moves a deal."""

import pytest

from orders.models import Opportunity, SalesOrder
from orders.tests.factories import CustomerFactory, OpportunityFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sales_user_creates_confirms_an_order_and_moves_a_deal(browser, live_server, make_user):
    user = make_user("mia", "Sales", first_name="Mia", last_name="Wang")
    CustomerFactory(owner=user, external_id="C-E2E", name="张伟 Zhang Wei")
    ProductFactory(sku="E2E-1", name="Phone 手机", unit_price="1999.00")
    deal = OpportunityFactory(customer=CustomerFactory(owner=user), owner=user, name="年度框架 Annual deal")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", "pw-mia")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/orders/sales/new/")
    page.fill("input[name=customer]", "C-E2E")
    page.click("main form [type=submit]")
    page.wait_for_url("**/orders/sales/*/")
    page.select_option("select[name=product]", label="E2E-1 · Phone 手机")
    page.fill("input[name=quantity]", "2")
    with page.expect_navigation():
        page.get_by_role("button", name="Add line").last.click()
    assert "3,998.00" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Mark Confirmed").click()
    order = SalesOrder.objects.get(customer__external_id="C-E2E")
    assert order.status == SalesOrder.Status.CONFIRMED and str(order.total) == "3998.00"

    page.goto(f"{live_server.url}/orders/opportunities/board/")
    # The move controls sit in the card's closed "Move" panel (one tab stop per card until opened).
    page.locator(f"article[data-id='{deal.pk}'] summary").click()
    form = page.locator(f"form[action$='/opportunities/{deal.pk}/move/']")
    form.locator("select[name=stage]").select_option("negotiation")
    with page.expect_navigation():
        form.get_by_role("button", name="Move").click()
    deal.refresh_from_db()
    assert deal.stage == Opportunity.Stage.NEGOTIATION
