"""A real browser sends an email from the customer page with a canned reply; a real SMTP server gets it."""

import pytest

from customers.tests.factories import ContactMethodFactory, CustomerFactory
from sessions_log.models import CannedReply, Interaction
from sessions_log.tests.test_e2e import _login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sales_user_sends_a_canned_email_and_finds_it_on_the_timeline(
    browser, live_server, make_user, smtp_server
):
    eve = make_user("eve", "Sales")
    customer = CustomerFactory(owner=eve, name="陈静 Chen Jing")
    ContactMethodFactory(customer=customer, kind="email", value="chen.jing@example.com")
    CannedReply.objects.create(
        name="Catalogue", language="en", subject="Our catalogue", body="Dear {customer_name},\nhere it is."
    )
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    _login(page, live_server.url, "eve")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.get_by_role("link", name="Send email").click()
    page.select_option("select[name=canned]", label="Catalogue (English)")
    page.get_by_role("button", name="Use this reply").click()
    assert page.input_value("textarea[name=body]") == "Dear 陈静 Chen Jing,\nhere it is."
    page.get_by_role("button", name="Send").click()
    page.locator(".alert", has_text="Email sent to chen.jing@example.com.").wait_for()

    interaction = Interaction.objects.get(customer=customer, channel="email")
    [received] = smtp_server.messages
    assert received.message["Message-ID"] == interaction.message_id
    assert received.message["Subject"].startswith("Our catalogue [CRM-")
    page.goto(f"{live_server.url}/customers/{customer.pk}/timeline/")
    assert "Email: Our catalogue" in page.locator("main").inner_text()
