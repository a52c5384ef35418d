"""The run page shows each model against its baseline (issue 14): churn scores with the served one
marked, the reliability chart's bins, importances, the evaluation, a warning for every model that loses,
clusters and stability; managers only."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from profiles.tests.factories import ProfileRunFactory

pytestmark = pytest.mark.django_db

SCORES = {
    "model": {"roc_auc": 0.61, "brier": 0.231, "log_loss": 0.652},
    "bgnbd": {"roc_auc": 0.66, "brier": 0.214, "log_loss": 0.611},
    "recency": {"roc_auc": 0.68, "brier": 0.222, "log_loss": 0.640},
    "overall_rate": {"roc_auc": 0.5, "brier": 0.25, "log_loss": 0.693},
}
METRICS = {
    "churn": {
        "window_days": 90,
        "served": "bgnbd",
        "scores": SCORES,
        "reliability": [
            {"lower": 0.0, "upper": 0.1, "mean_predicted": 0.05, "observed": 0.08, "count": 120},
            {"lower": 0.5, "upper": 0.6, "mean_predicted": 0.55, "observed": 0.5, "count": 40},
        ],
        "importances": [
            {"feature": "frequency", "importance": 0.02},
            {"feature": "recency_days", "importance": 0.12},
        ],
        "beats_baseline": False,
        "calibration": "isotonic",
    },
    "evaluation": {
        "forecast": {
            "horizon_days": 90,
            "n_customers": 500,
            "mae": {"model": 0.8, "same_rate": 0.7, "zero": 1.1},
            "beats_baseline": False,
            "served": "same_rate",
        },
        "offers": {
            "n_customers": 300,
            "hit_rate": {"model": 0.21, "popular": 0.15},
            "beats_baseline": True,
            "served": "rules",
        },
    },
    "clusters": {
        "k": 5,
        "silhouette": 0.31,
        "k_range": [4, 8],
        "merged": 1,
        "ari_bootstrap": 0.87,
        "min_share": 0.02,
    },
    "stability": {
        "previous_run": "abc",
        "previous_as_of": "2026-11-30T23:59:59+00:00",
        "compared": 1990,
        "moved": {"churn_band": 0.031, "rfm_segment": 0.012, "cluster": 0.06},
        "new_customers": 10,
    },
}


def _page(client, user, run):
    client.force_login(user)
    response = client.get(reverse("profiles:run-detail", args=[run.pk]))
    return response.status_code, response.content.decode()


def test_the_run_page_flags_models_that_lose_and_draws_the_reliability_bins(client, manager_user):
    run = ProfileRunFactory(finished_at=timezone.now(), metrics=METRICS)

    with translation.override("en"):
        status, html = _page(client, manager_user, run)

    assert status == 200
    warnings = html[html.index('id="run-baseline-warnings"') :]
    warnings = warnings[: warnings.index("</ul>")]
    assert '<li data-warning="churn">' in warnings and '<li data-warning="forecast">' in warnings
    assert 'data-warning="offers"' not in warnings  # the rules beat the popular categories
    assert "The churn classifier loses to days since last purchase alone." in warnings

    scores = html[html.index('id="run-churn-scores"') :]
    scores = scores[: scores.index("</table>")]
    assert '<tr data-score="bgnbd" class="table-primary">' in scores  # the served one
    assert "0.611" in scores and "0.652" in scores and "0.693" in scores
    assert "no purchase in 90 days" in html

    # Two bins: points at (predicted, 1 - observed) in the 100-unit box, and the table with counts.
    assert '<circle class="reliability-point" cx="5.0" cy="92.0" r="2.2">' in html
    assert '<circle class="reliability-point" cx="55.0" cy="50.0" r="2.2">' in html
    assert 'points="5.0,92.0 55.0,50.0"' in html
    bins = html[html.index('id="run-reliability"') :]
    assert (
        '<tr data-bin="0"><td>0%–10%</td><td class="text-end">5%</td>'
        '<td class="text-end">8%</td><td class="text-end">120</td></tr>' in bins
    )
    assert (
        '<tr data-bin="1"><td>50%–60%</td><td class="text-end">55%</td>'
        '<td class="text-end">50%</td><td class="text-end">40</td></tr>' in bins
    )
    assert "style=" not in html[html.index('id="run-quality"') :]

    importances = html[html.index('id="run-importances"') :]
    first, second = importances.index("Days since last purchase"), importances.index("Orders")
    assert first < second  # descending
    assert "pct-100" in importances and "pct-17" in importances  # 0.02 / 0.12

    evaluation = html[html.index('id="run-evaluation"') :]
    assert (
        '<tr data-forecast="same_rate"><td>Same rate as before <span class="badge text-bg-primary">served'
        in evaluation
    )
    assert "0.700" in evaluation and "1.100" in evaluation and "21%" in evaluation and "15%" in evaluation

    clusters = html[html.index('id="run-clusters"') :]
    assert "k chosen within 4–8" in clusters and "1 small cluster merged" in clusters
    assert "Bootstrap stability (adjusted Rand index): 0.87" in clusters

    stability = html[html.index('id="run-stability"') :]
    assert "1,990 customers in both runs, 10 new" in stability
    assert '<tr data-moved="churn_band"><td>Churn band</td><td class="text-end">3.1%</td></tr>' in stability
    assert '<td class="text-end text-danger">6.0%</td>' in stability  # the cluster share is over 5%
    assert "target &lt; 5% moved when &lt; 1% of the data changed" in stability
    assert "above target" in stability  # 10 new of 2,000 is 0.5% of the data


def test_a_run_without_the_new_metrics_renders_without_the_sections(client, manager_user):
    run = ProfileRunFactory(finished_at=timezone.now(), metrics={"churn": {"roc_auc": 0.7}})

    status, html = _page(client, manager_user, run)

    assert status == 200
    assert 'id="run-quality"' not in html and 'id="run-baseline-warnings"' not in html


def test_only_managers_see_the_run_page(client, sales_user):
    run = ProfileRunFactory(finished_at=timezone.now(), metrics=METRICS)
    status, _html = _page(client, sales_user, run)
    assert status == 403
