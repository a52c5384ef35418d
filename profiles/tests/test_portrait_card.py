"""The portrait card explains itself (issue 14): definitions, the band's colour, "too new to tell", the
RFM legend, the segment's rule, churn factors and offer reasons in words, and the baseline notes."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from customers.tests.factories import CustomerFactory
from profiles.models import CustomerProfile
from profiles.presenters import factor_sentence, offer_lines, portrait_explained, segment_rule
from profiles.tests.factories import ProfileRunFactory

pytestmark = pytest.mark.django_db

CHURN_WINDOW = {"window_days": 120, "served": "model", "beats_baseline": True}


def _published(metrics=None):
    return ProfileRunFactory(
        is_active=True,
        finished_at=timezone.now(),
        metrics={"churn": dict(CHURN_WINDOW)} if metrics is None else metrics,
    )


def _profile(run, customer, **fields):
    values = {
        "rfm_segment": "potential_loyalists",
        "r_score": 5,
        "f_score": 3,
        "m_score": 2,
        "recency_days": 12.4,
        "frequency": 4,
        "monetary": Decimal("1234.00"),
        "p_alive": 0.97,
        "computed_at": run.as_of,
    } | fields
    return CustomerProfile.objects.create(run=run, customer=customer, **values)


def _card(client, user, customer):
    client.force_login(user)
    page = client.get(reverse("profiles:profile-detail", args=[customer.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    return html[html.index('id="profile-card"') :]


def test_a_too_new_customer_reads_too_new_to_tell_in_grey_and_no_red_badge(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    run = _published()
    # The raw number is high, but the customer's tenure is shorter than the churn window.
    _profile(run, customer, churn_risk=0.78, churn_bucket=7, churn_status="too_new", churn_band="")

    with translation.override("en"):
        card = _card(client, sales_user, customer)

    churn = card[card.index('id="profile-churn"') :]
    churn = churn[: churn.index("</dd>")]
    assert 'data-churn-state="too_new"' in churn
    assert '<span class="badge text-bg-secondary">too new to tell</span>' in churn
    assert "text-bg-danger" not in card and "78%" not in churn
    assert "chance of no purchase in the next 120 days" in churn


def test_the_band_not_the_number_drives_the_colour(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    run = _published()
    # 0.65 would be red by the raw thresholds; the consistency rules put a purchase yesterday in "medium".
    _profile(run, customer, churn_risk=0.65, churn_status="scored", churn_band="medium", recency_days=1)

    with translation.override("en"):
        card = _card(client, sales_user, customer)

    assert '<span class="badge text-bg-warning" data-band="medium">65% · medium</span>' in card
    assert "text-bg-danger" not in card
    assert "chance the customer is still buying at all" in card


def test_the_rfm_legend_and_segment_rule_say_what_the_scores_mean_for_this_customer(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    run = _published()
    _profile(run, customer, churn_risk=0.1, churn_status="scored", churn_band="low")

    with translation.override("en"):
        card = _card(client, sales_user, customer)

    assert '<span data-rfm="r">R 5: last purchase 12 days ago</span>' in card
    assert '<span data-rfm="f">F 3: 4 orders</span>' in card
    assert '<span data-rfm="m">M 2: ¥1,234.00 spent</span>' in card
    assert "Scores are quintiles of this run&#x27;s buyers, 5 = best." in card
    # rfm.py's grid: potential loyalists are R 4-5 with F 2-3, and R 3 with F 3.
    assert "Potential loyalists: R 4–5 with F 2–3 or R 3 with F 3 in the R/F grid" in card


def test_segment_rules_follow_the_rfm_grid():
    with translation.override("en"):
        assert segment_rule("champions") == "R 5 with F 4–5"
        assert segment_rule("loyal") == "R 3–4 with F 4–5"
        assert segment_rule("at_risk") == "R 1–2 with F 3–4"
        assert segment_rule("lost") == "R 1 with F 1–2"
        assert segment_rule("hibernating") == "R 2–3 with F 1–2"
        assert segment_rule("nonsense") == ""


def test_churn_factors_and_offer_reasons_read_as_sentences(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    run = _published()
    explanation = {
        "churn_factors": [
            {"feature": "recency_days", "value": 240.0, "typical": 60.0, "effect": 0.22},
            {"feature": "frequency", "value": 1.0, "typical": 3.0, "effect": 0.081},
            {"feature": "spend_90d", "value": 0.0, "typical": 420.0, "effect": -0.01},
        ],
        "offer_reasons": [
            {"category": "B", "because": ["A"], "lift": 3.1, "confidence": 0.42, "source": "rules"},
            {"category": "C", "because": [], "lift": None, "confidence": None, "source": "popular"},
        ],
    }
    _profile(
        run,
        customer,
        churn_risk=0.7,
        churn_status="scored",
        churn_band="high",
        next_best_offers=["B", "C"],
        explanation=explanation,
    )

    with translation.override("en"):
        card = _card(client, sales_user, customer)

    factors = card[card.index('id="profile-churn-factors"') :]
    factors = factors[: factors.index("</ul>")]
    assert "Days since the last purchase: 240 (typical 60) raises the risk by 22 points" in factors
    assert "Orders so far: 1 (typical 3) raises the risk by 8 points" in factors
    assert "Spent ¥0 in the last 90 days (typical ¥420) lowers the risk by 1 point" in factors
    assert '<span class="badge text-bg-danger" data-band="high">70% · high</span>' in card
    offers = card[card.index('id="profile-offers"') :]
    assert "<strong>B</strong>" in offers
    assert "bought A; customers who buy A buy B 3.1× as often" in offers
    assert "popular with customers like this" in offers


def test_offers_without_reasons_and_unknown_features_still_read():
    with translation.override("en"):
        assert offer_lines(["X"], []) == [{"category": "X", "why": ""}]
        assert (
            factor_sentence({"feature": "events_search", "value": 3, "typical": 1.5, "effect": 0.05})
            == "events_search 3.0 (typical 1.5) raises the risk by 5 points"
        )
        assert factor_sentence({"feature": "recency_days"}) is None


def test_a_run_that_served_baselines_says_so_on_the_card(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    run = _published(
        {
            "churn": {"window_days": 90, "served": "bgnbd", "beats_baseline": False},
            "evaluation": {
                "forecast": {"served": "same_rate", "beats_baseline": False, "mae": {}},
                "offers": {"served": "popular", "beats_baseline": False, "hit_rate": {}},
            },
        }
    )
    _profile(run, customer, churn_risk=0.2, churn_status="scored", churn_band="low")

    with translation.override("en"):
        card = _card(client, sales_user, customer)

    notes = card[card.index('id="profile-baseline-notes"') :]
    assert "Churn risk comes from the BG/NBD purchase model" in notes
    assert "Expected purchases repeat the customer&#x27;s past rate" in notes
    assert "Next best offers are the most popular categories" in notes
    assert "chance of no purchase in the next 90 days" in card


def test_a_profile_of_a_run_before_the_new_fields_still_renders(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    run = _published({})
    # No status, band or explanation stored; the old thresholds give the colour.
    _profile(run, customer, churn_risk=0.65, next_best_offers=["B"])

    with translation.override("en"):
        card = _card(client, sales_user, customer)
        explained = portrait_explained(profile=CustomerProfile.objects.get(customer=customer), run=run)

    assert '<span class="badge text-bg-danger" data-band="high">65% · high</span>' in card
    assert "chance of no purchase in the churn window" in card
    assert explained["offers"] == [{"category": "B", "why": ""}]
    assert explained["baseline_notes"] == [] and explained["churn_factors"] == []


def test_the_customer_page_card_shows_the_explanations(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    run = _published()
    _profile(run, customer, churn_risk=0.5, churn_status="too_new", churn_band="")
    client.force_login(sales_user)

    with translation.override("en"):
        html = client.get(customer.get_absolute_url()).content.decode()

    assert "too new to tell" in html and "R 5: last purchase 12 days ago" in html


def test_a_real_run_stores_blank_status_and_an_empty_explanation_until_the_pipeline_says_more(
    client, manager_user, history
):
    from profiles.services.rebuild import profile_rebuild_sync

    run = profile_rebuild_sync()
    profile = CustomerProfile.objects.filter(run=run, frequency__gt=0).first()
    assert set(profile.explanation) == {"churn_factors", "offer_reasons"}
    assert profile.churn_status in ("", "scored", "too_new", "never_bought")
    assert profile.churn_band in ("", "low", "medium", "high")

    with translation.override("en"):
        card = _card(client, manager_user, profile.customer)

    days = round(profile.recency_days)
    assert f"R {profile.r_score}: last purchase {days} day" in card
