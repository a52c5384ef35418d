"""WCAG 2.2 AA in a real browser: axe-core on every main page, in English and Chinese, for sales and manager.

axe-core (vendored under static/vendor/axe-core/; its helpers live in crm_site.testing, shared with the
role journeys in test_journeys.py) runs the WCAG 2.0/2.1/2.2 A and AA rules; a page passes with no
critical and no serious violation. The keyboard tests check what axe cannot: a skip link first, the focus
after a failed submit, the opportunity board's tab stops and the focus ring's contrast.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from crm_site.testing import axe_violations, browser_login, describe_violations
from customers.tests.factories import AddressFactory, ContactMethodFactory, CustomerFactory, PartnerFactory
from orders.models import Opportunity
from orders.tests.factories import (
    OpportunityFactory,
    OrderLineFactory,
    ProductFactory,
    ProjectFactory,
    SalesOrderFactory,
    ServiceOrderFactory,
)
from profiles.tests.factories import ProfileRunFactory, SegmentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _site(sales: Any) -> dict[str, str]:
    """One of each record the main pages show, owned by ``sales`` (the manager sees them too)."""
    customer = CustomerFactory(owner=sales, name="陈静 Chen Jing", company_name="Blue River Ltd")
    ContactMethodFactory(customer=customer, kind="mobile", value="13912345678")
    ContactMethodFactory(customer=customer, kind="email", value="chen.jing@example.com")
    AddressFactory(customer=customer)
    twin = CustomerFactory(owner=sales, name="陈静 Chen Jing")
    ContactMethodFactory(customer=twin, kind="mobile", value="139 1234 5678")
    partner = PartnerFactory()
    order = SalesOrderFactory(customer=customer)
    OrderLineFactory(order=order, product=ProductFactory(), quantity=2)
    ticket = ServiceOrderFactory(customer=customer)
    project = ProjectFactory(customer=customer)
    opportunity = None
    for i, stage in enumerate(Opportunity.Stage.values):
        opportunity = OpportunityFactory(customer=customer, stage=stage, amount=Decimal(1000 + i))
    product = ProductFactory()
    segment = SegmentFactory()
    run = ProfileRunFactory(started_at=timezone.now(), finished_at=timezone.now())
    assert opportunity is not None
    c = customer.get_absolute_url()
    return {
        "dashboard": "/",
        "customer list": "/customers/",
        "customer detail": c,
        "customer create": "/customers/new/",
        "customer edit": f"{c}edit/",
        "partners": "/customers/partners/",
        "partner detail": f"/customers/partners/{partner.pk}/",
        "duplicates": "/customers/duplicates/",
        "customer imports": "/customers/imports/",
        "customer import new": "/customers/imports/new/",
        "sales orders": "/orders/sales/",
        "sales order detail": f"/orders/sales/{order.pk}/",
        "sales order new": "/orders/sales/new/",
        "sales order edit": f"/orders/sales/{order.pk}/edit/",
        "tickets": "/orders/tickets/",
        "ticket detail": f"/orders/tickets/{ticket.pk}/",
        "ticket new": "/orders/tickets/new/",
        "projects": "/orders/projects/",
        "project detail": f"/orders/projects/{project.pk}/",
        "opportunities": "/orders/opportunities/",
        "opportunity board": "/orders/opportunities/board/",
        "opportunity new": "/orders/opportunities/new/",
        "products": "/orders/products/",
        "product edit": f"/orders/products/{product.pk}/edit/",
        "reports": "/orders/reports/",
        "profiles dashboard": "/profiles/",
        "profile detail": f"/profiles/customers/{customer.pk}/",
        "segments": "/profiles/segments/",
        "segment detail": f"/profiles/segments/{segment.pk}/",
        "run detail": f"/profiles/runs/{run.pk}/",
        "opportunity detail": f"/orders/opportunities/{opportunity.pk}/",
        "customer duplicates": f"{c}duplicates/",
        "customer merge": f"{c}merge/{twin.pk}/",
        "customer sharing": f"{c}sharing/",
        "relationship new": f"{c}relationships/new/",
        "partner new": "/customers/partners/new/",
        "product new": "/orders/products/new/",
        "order import new": "/orders/imports/new/",
        "segment new": "/profiles/segments/new/",
        "segment edit": f"/profiles/segments/{segment.pk}/edit/",
        "rebuild": "/profiles/runs/new/",
        "event import": "/profiles/events/import/",
        "password change": "/accounts/password/",
        "404 page": "/no-such-page/",
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("role", ["sales", "manager"])
def test_main_pages_have_no_serious_wcagaxe_violations(browser, live_server, make_user, role, language):
    sales = make_user("sales_a", "Sales")
    make_user("boss", "Manager")
    pages = _site(sales)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/accounts/login/")
    failures = {"login": axe_violations(page)}
    browser_login(page, live_server.url, {"sales": "sales_a", "manager": "boss"}[role], language)
    for name, url in pages.items():
        page.goto(f"{live_server.url}{url}")
        failures[name] = axe_violations(page)
    # A failed (empty) submit shows the errors, and the error summary, on the form.
    for name in ("customer create", "opportunity new", "segment new", "password change"):
        page.goto(f"{live_server.url}{pages[name]}")
        submit = page.locator("main form [type=submit]")
        if submit.count():
            with page.expect_navigation():  # form.submit(): past the browser's own checks of required fields
                submit.last.evaluate("b => HTMLFormElement.prototype.submit.call(b.form)")
            failures[f"{name}, failed"] = axe_violations(page)
    failing = {name: found for name, found in failures.items() if found}
    report = "\n".join(f"{name}:\n{describe_violations(found)}" for name, found in failing.items())
    assert not failing, (
        f"{len(failing)} page(s) with critical/serious WCAG violations ({role}, {language}):\n{report}"
    )


def _contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)" or "rgba(...)")."""

    def luminance(colour: str) -> float:
        channels = [int(float(part)) / 255 for part in colour[colour.index("(") + 1 : -1].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


FOCUS_STYLE = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {tag: el.tagName, cls: el.className, text: el.textContent.trim(),
          width: parseFloat(style.outlineWidth), outlineStyle: style.outlineStyle,
          colour: style.outlineColor};
}"""


def test_skip_link_is_the_first_tab_stop_and_moves_to_the_content(browser, live_server, sales_user):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    browser_login(page, live_server.url, "sales_a", "en")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS_STYLE)
    assert (first["tag"], first["text"]) == ("A", "Skip to content")
    assert page.locator(".skip-link").is_visible(), "the skip link shows while it has the focus"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('content').contains(document.activeElement)")


def test_focus_rings_contrast_three_to_one_on_the_dark_navbar_and_on_inputs(browser, live_server, sales_user):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    browser_login(page, live_server.url, "sales_a", "en")
    navbar = page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).backgroundColor")
    for _ in range(3):  # to the brand link, first in the dark navigation bar (after the skip link)
        page.keyboard.press("Tab")
        brand = page.evaluate(FOCUS_STYLE)
        if "navbar-brand" in brand["cls"]:
            break
    assert "navbar-brand" in brand["cls"]
    assert brand["outlineStyle"] != "none" and brand["width"] >= 2, brand
    assert _contrast(brand["colour"], navbar) >= 3, (brand, navbar)

    page.goto(f"{live_server.url}/customers/new/")
    card = page.evaluate("getComputedStyle(document.querySelector('main .card')).backgroundColor")
    page.focus("input[name=name]")
    field = page.evaluate(FOCUS_STYLE)
    assert field["outlineStyle"] != "none" and field["width"] >= 2, field
    assert _contrast(field["colour"], card) >= 3, (field, card)


@pytest.mark.parametrize("javascript", [True, False])
def test_failed_submit_shows_an_error_summary_that_takes_the_focus(
    browser, live_server, sales_user, javascript
):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    browser_login(page, live_server.url, "sales_a", "en")
    page.goto(f"{live_server.url}/customers/new/")
    page.fill("input[name=contacts-0-value]", "13912345678")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert summary.get_attribute("role") == "alert"
    link = summary.locator("a[href='#id_name']")
    assert link.count() == 1, summary.inner_html()
    if javascript:
        assert page.evaluate("document.activeElement.id") == "error-summary"
        link.click()
        assert page.evaluate("document.activeElement.name") == "name"
    context.close()


def _tab_stops_in(page: Any, selector: str) -> int:
    """How many Tab presses the keyboard spends inside ``selector`` (entered from the element before it)."""
    page.evaluate(
        """sel => {
          const first = document.querySelector(sel);
          const before = [...document.querySelectorAll('a[href], button, summary')].filter(
            el => el.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING);
          before.pop().focus();
        }""",
        selector,
    )
    stops = 0
    while True:
        page.keyboard.press("Tab")
        if not page.evaluate("sel => document.querySelector(sel).contains(document.activeElement)", selector):
            return stops
        stops += 1


def test_board_has_two_tab_stops_a_card_and_moves_without_javascript(browser, live_server, sales_user):
    customer = CustomerFactory(owner=sales_user)
    deals = [
        OpportunityFactory(customer=customer, stage=stage) for stage in Opportunity.Stage.values for _ in "ab"
    ]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_login(page, live_server.url, "sales_a", "en")
    page.goto(f"{live_server.url}/orders/opportunities/board/")
    assert page.locator(".kanban-card").count() == len(deals)
    assert _tab_stops_in(page, ".kanban") == 2 * len(deals), "each card: its link and its Move toggle"

    deal = deals[0]
    card = page.locator(f"article[data-id='{deal.pk}']")
    card.locator("summary").click()
    card.locator("select[name=stage]").select_option("negotiation")
    with page.expect_navigation():
        card.get_by_role("button", name="Move").click()
    deal.refresh_from_db()
    assert deal.stage == Opportunity.Stage.NEGOTIATION
    context.close()
