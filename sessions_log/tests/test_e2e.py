"""A real browser: log a call with its follow-up from the customer page, in place, then see both."""

import pytest

from crm_site.testing import browser_login as _login
from customers.tests.factories import ContactMethodFactory, CustomerFactory
from sessions_log.models import FollowUp, Interaction

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_sales_user_logs_a_call_with_a_follow_up_and_finds_both(browser, live_server, make_user, width):
    eve = make_user("eve", "Sales")
    customer = CustomerFactory(owner=eve, name="陈静 Chen Jing")
    ContactMethodFactory(customer=customer, kind="mobile", value="13912345678")
    page = browser.new_page(viewport={"width": width, "height": 900})
    _login(page, live_server.url, "eve")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.locator("details summary", has_text="Phone call").first.click()
    page.fill("textarea[name='log-call-body']", "Asked for the spring catalogue")
    page.fill("input[name='log-call-follow_up_title']", "Send the catalogue")
    page.fill("input[name='log-call-follow_up_due']", "2030-01-02T10:00")
    url_before = page.url
    page.locator("form[action$='/call/'] button").click()
    page.locator(".interaction-latest", has_text="Phone call").wait_for()
    assert page.url == url_before  # updated in place, no reload
    assert "Send the catalogue" in page.locator(".interaction-latest").inner_text()
    assert Interaction.objects.filter(customer=customer, channel="call").count() == 1
    assert FollowUp.objects.get(customer=customer).title == "Send the catalogue"
    page.goto(f"{live_server.url}/customers/{customer.pk}/timeline/")
    assert "Phone call" in page.locator("main").inner_text()
    page.goto(f"{live_server.url}/interactions/follow-ups/")
    assert "Send the catalogue" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
