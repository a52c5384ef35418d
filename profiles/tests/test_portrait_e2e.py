"""The explained portrait card and the run page in a real browser at 1366 and 390 px: the explanations
are visible, the reliability chart is drawn, nothing breaks the Content-Security-Policy and axe finds no
critical or serious violation. ``SAVE_SCREENSHOTS=1`` keeps the pages in ``docs/screenshots/``
(``manager-portrait-<width>-en.png``, ``manager-run-<width>-en.png``; full page)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from crm_site.testing import axe_violations, browser_login, describe_violations
from customers.tests.factories import CustomerFactory
from profiles.models import CustomerProfile
from profiles.tests.factories import ProfileRunFactory
from profiles.tests.test_portrait_run_page import METRICS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


def _data(owner):
    run = ProfileRunFactory(is_active=True, finished_at=timezone.now(), metrics=METRICS)
    customer = CustomerFactory(owner=owner, name="陈静 Chen Jing")
    CustomerProfile.objects.create(
        run=run,
        customer=customer,
        rfm_segment="at_risk",
        r_score=2,
        f_score=4,
        m_score=4,
        recency_days=240,
        frequency=6,
        monetary=Decimal("5230.00"),
        p_alive=0.41,
        churn_risk=0.72,
        churn_bucket=7,
        churn_status="scored",
        churn_band="high",
        cluster=1,
        cluster_name="dormant high-spend customers",
        clv_12m=Decimal("310.00"),
        next_best_offers=["图书 Books", "美妆 Beauty"],
        explanation={
            "churn_factors": [
                {"feature": "recency_days", "value": 240.0, "typical": 60.0, "effect": 0.22},
                {"feature": "orders_90d", "value": 0.0, "typical": 1.0, "effect": 0.09},
                {"feature": "monetary_total", "value": 5230.0, "typical": 800.0, "effect": -0.04},
            ],
            "offer_reasons": [
                {"category": "图书 Books", "because": ["数码 Electronics"], "lift": 3.1, "confidence": 0.42,
                 "source": "rules"},
                {"category": "美妆 Beauty", "because": [], "lift": None, "confidence": None,
                 "source": "popular"},
            ],
        },
        computed_at=run.as_of,
    )  # fmt: skip
    return run, customer


@pytest.mark.parametrize("width", [1366, 390])
def test_the_explained_card_and_run_page_render_in_a_browser(browser, live_server, make_user, width):
    manager = make_user("boss", "Manager")
    run, customer = _data(manager)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.add_init_script(COLLECT_VIOLATIONS)
    browser_login(page, live_server.url, "boss")
    shots = {
        "portrait": reverse("profiles:profile-detail", args=[customer.pk]),
        "run": reverse("profiles:run-detail", args=[run.pk]),
    }
    for name, path in shots.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp || []") == [], name
        found = axe_violations(page)
        assert not found, describe_violations(found)
        if os.environ.get("SAVE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"manager-{name}-{width}-en.png"), full_page=True)
        text = page.locator("main").inner_text()
        if name == "portrait":
            assert "Days since the last purchase: 240 (typical 60) raises the risk by 22 points" in text
            assert (
                "bought 数码 Electronics; customers who buy 数码 Electronics buy 图书 Books 3.1× as often"
                in text
            )
            assert "chance of no purchase in the next 90 days" in text
        else:
            assert page.locator("#run-reliability-chart circle").count() == 2
            assert "The churn classifier loses to days since last purchase alone." in text
    page.close()
