"""A journey per role in a real browser: log in and do the first task, at two widths, in both languages.

Each journey (sales, manager, marketing, service) runs at 1366 px and 390 px, in English and in Simplified
Chinese, and runs axe-core (``crm_site.testing.axe_violations``) on every page it visits: no critical and
no serious WCAG A/AA violation anywhere. At phone width no page may scroll sideways. Selectors avoid
translated text (they use URLs, names and values), so the same steps run in both languages.

``SAVE_SCREENSHOTS=1`` writes each journey's key page to ``docs/screenshots/<role>-<page>-<width>-<lang>.png``
(the README shows two, ``docs/screenshots/README.md`` lists them); without it nothing in the tree is
written, so CI never rewrites tracked files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation

from crm_site.testing import BASE_DIR, axe_violations, browser_login, describe_violations
from customers.tests.factories import ContactMethodFactory, CustomerFactory
from orders.models import Opportunity, SalesOrder, ServiceOrder
from orders.tests.factories import OpportunityFactory, SalesOrderFactory, ServiceOrderFactory
from profiles.models import Segment
from profiles.tests.factories import ProfileRunFactory
from sessions_log.models import FollowUp, Interaction

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = BASE_DIR / "docs" / "screenshots"
WIDTHS = {1366: 800, 390: 844}  # viewport width -> height (a laptop; a phone)
LANGUAGES = {"en": "en", "zh-hans": "zh"}  # language code -> screenshot file suffix
OPEN = set(Opportunity.Stage.values) - set(Opportunity.CLOSED_STAGES)

journey = pytest.mark.parametrize(
    ("width", "language"), [(w, lang) for w in WIDTHS for lang in LANGUAGES], ids=lambda v: str(v)
)


# The innermost elements whose right edge is past the window (what makes a page scroll sideways).
WIDEST = """() => {
  const edge = document.documentElement.clientWidth;
  const right = el => Math.round(el.getBoundingClientRect().right);
  const past = [...document.querySelectorAll('body *')].filter(el => right(el) > edge + 1);
  return past.filter(el => !past.some(other => other !== el && el.contains(other))).slice(0, 5)
    .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (${right(el)}px)`);
}"""


@dataclass
class Journey:
    """One browser tab of one user: visit pages, check each with axe, keep a screenshot of the key page."""

    page: Any
    base_url: str
    role: str
    width: int
    language: str
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def visit(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")
        self.check(path)

    def search(self, text: str) -> None:
        """Type ``text`` into the top bar's search (behind the menu toggler at phone width) and send it."""
        box = self.page.locator("nav input[name=q]")
        if not box.is_visible():
            self.page.locator("nav .navbar-toggler").click()
        box.fill(text)
        with self.page.expect_navigation():
            box.press("Enter")
        assert "/search/" in self.page.url, self.page.url
        self.check(f"search {text}")

    def check(self, name: str) -> None:
        """axe on the current page; at phone width, no sideways scrolling."""
        found = axe_violations(self.page)
        if found:
            self.failures[name] = found
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (
            f"{name} at {self.width}px scrolls sideways by {overflow}px; past the edge: "
            f"{self.page.evaluate(WIDEST)}"
        )

    def screenshot(self, name: str) -> None:
        if os.environ.get("SAVE_SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.role}-{name}-{self.width}-{LANGUAGES[self.language]}.png"
        self.page.screenshot(path=str(path), type="png", full_page=False, scale="css")

    def main_text(self) -> str:
        return self.page.locator("main").inner_text()

    def assert_accessible(self) -> None:
        report = "\n".join(f"{name}:\n{describe_violations(found)}" for name, found in self.failures.items())
        assert not self.failures, (
            f"critical/serious WCAG violations on {len(self.failures)} page(s) "
            f"({self.role}, {self.width}px, {self.language}):\n{report}"
        )


@pytest.fixture
def start(browser, live_server):
    """``start(role, username, width, language)``: a logged-in journey (the login page checked too)."""
    contexts = []

    def begin(role: str, username: str, width: int, language: str) -> Journey:
        context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, locale=language)
        contexts.append(context)
        page = context.new_page()
        journey = Journey(page, live_server.url, role, width, language)
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.goto(f"{live_server.url}/accounts/login/")
        journey.check("login")
        browser_login(page, live_server.url, username, language)
        return journey

    yield begin
    for context in contexts:
        context.close()


def _team(make_user) -> dict[str, Any]:
    """A small team and its book: two sales users' customers, a deal in every stage, a ticket, an order."""
    sales = make_user("sales_a", "Sales", first_name="Eve", last_name="Li")
    other = make_user("sales_b", "Sales")
    chen = CustomerFactory(owner=sales, name="陈静 Chen Jing", company_name="Blue River Ltd")
    ContactMethodFactory(customer=chen, kind="mobile", value="13912342493")
    ContactMethodFactory(customer=chen, kind="email", value="chen.jing@example.com")
    wang = CustomerFactory(owner=other, name="王伟 Wang Wei")
    ContactMethodFactory(customer=wang, kind="mobile", value="13800138000")
    CustomerFactory(owner=sales, name="Amelia Hall")
    for i, stage in enumerate(Opportunity.Stage.values):
        OpportunityFactory(customer=chen, stage=stage, amount=Decimal(1000 * (i + 1)), name=f"Deal {stage}")
    ServiceOrderFactory(customer=wang, subject="Printer jams on every page")
    SalesOrderFactory(customer=chen)
    return {"sales": sales, "other": other, "chen": chen, "wang": wang}


@journey
def test_sales_finds_a_customer_by_phone_logs_a_call_and_creates_an_order(start, make_user, width, language):
    team = _team(make_user)
    chen = team["chen"]
    j = start("sales", "sales_a", width, language)
    j.check("dashboard")

    j.search("2493")  # part of the phone number
    hit = j.page.locator(f"main a[href='{chen.get_absolute_url()}']")
    assert hit.count() == 1, j.main_text()
    with j.page.expect_navigation():
        hit.click()
    assert j.page.locator("h1").inner_text() == "陈静 Chen Jing"
    j.check("customer")
    j.screenshot("customer")

    # "Log: Phone call" with a follow-up, in place on the customer page.
    j.page.locator("details:has(form[action$='/call/']) > summary").click()
    j.page.fill("textarea[name='log-call-body']", "Asked for the spring catalogue")
    j.page.fill("input[name='log-call-follow_up_title']", "Send the catalogue")
    due = (timezone.localtime() + timedelta(days=2)).replace(hour=10, minute=0)
    j.page.fill("input[name='log-call-follow_up_due']", due.strftime("%Y-%m-%dT%H:%M"))
    j.page.locator("form[action$='/call/'] button").click()
    j.page.locator(".interaction-latest", has_text="Send the catalogue").wait_for()
    call = Interaction.objects.get(customer=chen, channel="call")
    assert FollowUp.objects.get(customer=chen).title == "Send the catalogue"
    j.check("customer, call logged")

    # "New order" on the customer page: the customer is already chosen.
    with j.page.expect_navigation():
        j.page.locator(f"main a[href$='/orders/sales/new/?customer={chen.pk}']").click()
    j.check("new order")
    before = set(SalesOrder.objects.values_list("pk", flat=True))
    with j.page.expect_navigation():
        j.page.locator("main form button[type=submit], main form input[type=submit]").last.click()
    created = SalesOrder.objects.exclude(pk__in=before).get()
    assert created.customer_id == chen.pk and created.owner_id == team["sales"].pk
    assert j.page.url.endswith(f"/orders/sales/{created.pk}/"), j.page.url
    j.check("order")

    # The call on the customer's timeline; the follow-up in My follow-ups.
    j.visit(f"/customers/{chen.pk}/timeline/")
    timeline = j.main_text()
    with translation.override(language):
        channel = str(call.get_channel_display())
    assert channel in timeline and "Eve Li" in timeline, timeline  # the call, by its channel and who made it
    j.visit("/interactions/follow-ups/")
    assert "Send the catalogue" in j.main_text()
    j.screenshot("follow-ups")
    j.assert_accessible()


@journey
def test_manager_sees_the_team_pipeline_reports_and_board(start, make_user, width, language):
    _team(make_user)
    make_user("boss", "Manager")
    run = ProfileRunFactory(started_at=timezone.now(), finished_at=timezone.now())
    j = start("manager", "boss", width, language)
    j.check("dashboard")
    # The team's work, not "my" nothing: the team's open tickets and open pipeline (every sales user's).
    card = j.page.locator(".card", has=j.page.locator("a[href$='/orders/opportunities/board/']")).last
    team_pipeline = sum(1000 * (i + 1) for i, stage in enumerate(Opportunity.Stage.values) if stage in OPEN)
    assert f"{team_pipeline:,.2f}" in card.inner_text(), card.inner_text()
    assert card.locator("a[href$='/orders/tickets/?status=open']").count() == 1, (
        "the team's tickets, not mine"
    )
    j.screenshot("dashboard")

    j.visit("/orders/reports/")
    assert j.page.locator("main table").count() >= 1
    j.visit("/orders/opportunities/board/")
    columns = j.page.locator(".kanban-column")
    assert j.page.locator(".kanban-card").count() == len(Opportunity.Stage.values)
    if width == 1366:  # every stage's column within the window, none hidden to the right
        assert columns.count() >= len(Opportunity.Stage.values)
        for i in range(columns.count()):
            box = columns.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (i, box)
        j.screenshot("board")
    j.visit(f"/profiles/runs/{run.pk}/")
    j.visit("/admin/")
    assert j.page.locator("#content, main").count() >= 1
    j.assert_accessible()


@journey
def test_marketing_lists_customers_and_creates_a_segment_from_a_rule(start, make_user, width, language):
    _team(make_user)
    make_user("mia", "Marketing")
    j = start("marketing", "mia", width, language)
    j.check("dashboard")
    j.visit("/customers/")
    listing = j.main_text()
    assert "陈静 Chen Jing" in listing and "王伟 Wang Wei" in listing, listing
    j.screenshot("customers")
    j.visit("/profiles/")
    j.visit("/profiles/segments/")

    j.visit("/profiles/segments/new/")
    at_risk = {"en": "At risk", "zh-hans": "流失风险客户"}[language]  # as the pages show it
    j.page.fill("input[name=name]", "Churn watch")
    j.page.select_option("select[name=field_1]", "churn_risk")
    j.page.select_option("select[name=op_1]", "gte")
    j.page.fill("input[name=value_1]", "70")
    j.page.select_option("select[name=field_2]", "rfm_segment")
    j.page.select_option("select[name=op_2]", "eq")
    j.page.fill("input[name=value_2]", at_risk)
    with j.page.expect_navigation():
        j.page.locator("main form [type=submit]").last.click()
    segment = Segment.objects.get(name="Churn watch")
    assert segment.kind == Segment.Kind.MANUAL
    assert segment.rule == [
        {"field": "churn_risk", "op": "gte", "value": 0.7},
        {"field": "rfm_segment", "op": "eq", "value": "at_risk"},
    ], segment.rule
    assert j.page.url.endswith(f"/profiles/segments/{segment.pk}/"), j.page.url
    j.check("segment")
    j.screenshot("segment")
    j.assert_accessible()


@journey
def test_service_opens_a_ticket_for_a_sales_users_customer_and_moves_it(start, make_user, width, language):
    team = _team(make_user)
    wang = team["wang"]
    make_user("sam", "Service", first_name="Sam")
    j = start("service", "sam", width, language)
    j.check("dashboard")
    j.search("13800138000")  # a customer of another user (sales_b)
    hit = j.page.locator(f"main a[href='{wang.get_absolute_url()}']")
    assert hit.count() == 1, j.main_text()
    with j.page.expect_navigation():
        hit.click()
    j.check("customer")

    with j.page.expect_navigation():
        j.page.locator(f"main a[href$='/orders/tickets/new/?customer={wang.pk}']").click()
    j.check("new ticket")
    before = set(ServiceOrder.objects.values_list("pk", flat=True))
    j.page.fill("input[name=subject]", "Screen flickers after the update")
    with j.page.expect_navigation():
        j.page.locator("main form button[type=submit], main form input[type=submit]").last.click()
    ticket = ServiceOrder.objects.exclude(pk__in=before).get()
    assert ticket.customer_id == wang.pk
    assert j.page.url.endswith(f"/orders/tickets/{ticket.pk}/"), j.page.url
    j.check("ticket")

    j.page.select_option("select[name=status]", ServiceOrder.Status.IN_PROGRESS)
    with j.page.expect_navigation():
        j.page.locator("form[action$='/status/'] button").click()
    ticket.refresh_from_db()
    assert ticket.status == ServiceOrder.Status.IN_PROGRESS
    history = j.page.locator(".card", has=j.page.locator("ol time")).last.inner_text()
    with translation.override(language):
        moved = str(ServiceOrder.Status.IN_PROGRESS.label)
    assert moved in history and "Sam" in history, history
    j.check("ticket, in progress")
    j.screenshot("ticket")
    j.assert_accessible()
