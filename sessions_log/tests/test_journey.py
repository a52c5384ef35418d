"""The issue's journey in a real browser: find a customer by phone, log a call with a follow-up, send an
email, see both on the timeline and the follow-up in "My follow-ups"; the email reaches a real SMTP server."""

import pytest

from crm_site.testing import browser_login
from customers.tests.factories import ContactMethodFactory, CustomerFactory
from sessions_log.models import FollowUp, Interaction

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_sales_user_finds_by_phone_logs_a_call_sends_an_email_and_follows_up(
    browser, live_server, make_user, smtp_server, width
):
    eve = make_user("eve", "Sales")
    customer = CustomerFactory(owner=eve, name="王芳 Wang Fang")
    ContactMethodFactory(customer=customer, kind="mobile", value="+86 139 1234 5678")
    ContactMethodFactory(customer=customer, kind="email", value="wang.fang@example.com")
    other = CustomerFactory(owner=make_user("mallory", "Sales"), name="Not Eve's")
    ContactMethodFactory(customer=other, kind="mobile", value="13912345678")  # the same number, not Eve's
    page = browser.new_page(viewport={"width": width, "height": 900})
    browser_login(page, live_server.url, "eve")

    # Find the customer by the last digits of the phone number from the navbar's search box.
    if width < 1200:  # the navbar collapses below Bootstrap's xl breakpoint
        page.locator(".navbar-toggler").click()
    page.fill("#navbar-search", "1234 5678")
    page.press("#navbar-search", "Enter")
    result = page.get_by_role("link", name="王芳 Wang Fang")
    result.wait_for()
    assert "Not Eve's" not in page.locator("main").inner_text()
    result.click()
    assert page.url.endswith(customer.get_absolute_url())

    # Log the call with the follow-up it needs, in place.
    page.locator("details summary", has_text="Phone call").first.click()
    page.fill("textarea[name='log-call-body']", "Wants the spring catalogue by mail")
    page.fill("input[name='log-call-follow_up_title']", "Call back about the catalogue")
    page.fill("input[name='log-call-follow_up_due']", "2030-01-02T10:00")
    page.locator("form[action$='/call/'] button").click()
    page.locator(".interaction-latest", has_text="Phone call").wait_for()

    # Send the email.
    page.get_by_role("link", name="Send email").click()
    page.fill("input[name=subject]", "Spring catalogue")
    page.fill("textarea[name=body]", "Dear Wang Fang,\nthe catalogue is attached as promised.")
    page.get_by_role("button", name="Send").click()
    page.locator(".alert", has_text="Email sent to wang.fang@example.com.").wait_for()
    email = Interaction.objects.get(customer=customer, channel="email")
    [received] = smtp_server.messages
    assert received.message["Message-ID"] == email.message_id
    assert received.message["Subject"].startswith("Spring catalogue")
    assert "wang.fang@example.com" in received.message["To"]

    # Both on the timeline, newest first.
    page.goto(f"{live_server.url}/customers/{customer.pk}/timeline/")
    text = page.locator("main").inner_text()
    assert "Email: Spring catalogue" in text and "Phone call" in text
    assert text.index("Email: Spring catalogue") < text.index("Phone call")

    # The follow-up in My follow-ups.
    page.goto(f"{live_server.url}/interactions/follow-ups/")
    assert "Call back about the catalogue" in page.locator("main").inner_text()
    assert FollowUp.objects.get(customer=customer).assignee == eve
    assert page.evaluate("document.documentElement.scrollWidth") <= width
