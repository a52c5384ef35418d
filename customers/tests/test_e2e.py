"""A real headless Chromium: find a customer by phone from the navbar, open it, create one; screenshots."""

import pytest

from customers.models import Customer
from customers.tests.factories import ContactMethodFactory, CustomerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_sales_user_finds_a_customer_by_phone_opens_it_and_creates_one(browser, live_server, make_user):
    eve = make_user("eve", "Sales")
    customer = CustomerFactory(owner=eve, name="陈静 Chen Jing")
    ContactMethodFactory(customer=customer, kind="mobile", value="13912345678")
    CustomerFactory(owner=eve, name="Somebody Else")
    page = browser.new_page(viewport={"width": 1366, "height": 800})
    _login(page, live_server.url, "eve")

    page.fill("nav input[name=q]", "139 1234 5678")
    with page.expect_navigation():
        page.press("nav input[name=q]", "Enter")
    assert "/search/" in page.url  # the global search: customers grouped with the other kinds
    rows = page.locator("section[aria-labelledby=search-kind-customers] li")
    assert rows.count() == 1
    with page.expect_navigation():
        rows.get_by_role("link", name="陈静 Chen Jing").click()
    assert page.locator("h1").inner_text() == "陈静 Chen Jing"
    assert "13912345678" in page.content()

    page.goto(f"{live_server.url}/customers/new/")
    page.fill("input[name=name]", "新客户 New Person")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    created = Customer.objects.get(name="新客户 New Person")
    assert page.url.endswith(created.get_absolute_url())
    assert created.owner == eve
    assert page.locator("h1").inner_text() == "新客户 New Person"


@pytest.mark.parametrize("width", [1366, 390])
def test_customer_pages_render_without_sideways_scrolling(browser, live_server, make_user, tmp_path, width):
    """Screenshots of list, detail, edit and import pages; at phone width nothing may overflow sideways."""
    eve = make_user("eve", "Sales")
    customer = CustomerFactory(owner=eve, name="欧阳娜娜 Nana Ouyang", company_name="Blue River Ltd")
    ContactMethodFactory(customer=customer, kind="email", value="nana.ouyang.long.address@example.com")
    page = browser.new_page(viewport={"width": width, "height": 900})
    _login(page, live_server.url, "eve")
    pages = {
        "list": "/customers/",
        "detail": customer.get_absolute_url(),
        "edit": f"{customer.get_absolute_url()}edit/",
        "import": "/customers/imports/new/",
        "sharing": f"{customer.get_absolute_url()}sharing/",
    }
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        assert page.locator("h1").count() >= 1, name
        shot = tmp_path / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} at {width}px scrolls sideways by {overflow}px"
