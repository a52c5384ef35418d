"""Run-to-run stability (issue 14): the publish step counts who moved across churn bands, RFM segments and
clusters since the run it replaces, and stores it as run.metrics["stability"]."""

import pandas as pd
import pytest
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from profiles.models import CustomerProfile, ProfileRun
from profiles.services import storage
from profiles.services.rebuild import profile_rebuild_start, rebuild_run_inline
from profiles.services.rows import staged_frame

pytestmark = pytest.mark.django_db


def _published_run(rows: list[dict]) -> ProfileRun:
    """A run written and published by the real steps (write chunk, publish) from a pipeline frame made
    here instead of fitted: the compute step's outputs are the only thing skipped."""
    run = profile_rebuild_start(dispatch=False)
    frame = pd.DataFrame(rows).set_index("customer_id")
    storage.dump(storage.chunk_path(run.pk, 0), staged_frame(frame))
    ProfileRun.objects.filter(pk=run.pk).update(
        fitted_at=timezone.now(), chunks_total=1, metrics={"churn": {"window_days": 90}}
    )
    rebuild_run_inline(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ProfileRun.Status.SUCCEEDED and run.is_active
    return run


def _row(customer, band, segment, cluster, status="scored"):
    return {
        "customer_id": str(customer.pk),
        "frequency": 2,
        "rfm_segment": segment,
        "churn_probability": {"low": 0.1, "medium": 0.4, "high": 0.8, "": float("nan")}[band],
        "churn_status": status,
        "churn_band": band,
        "cluster": cluster,
        "cluster_name": f"cluster {cluster}",
    }


def test_publish_records_the_share_that_moved_per_kind_against_the_replaced_run(sales_user):
    a, b, c, d, e = (CustomerFactory(owner=sales_user) for _ in range(5))
    first = _published_run(
        [
            _row(a, "low", "loyal", 0),
            _row(b, "low", "loyal", 0),
            _row(c, "medium", "champions", 1),
            _row(d, "", "new", 2, status="too_new"),
        ]
    )
    assert "stability" not in first.metrics  # nothing to compare the first run with

    second = _published_run(
        [
            _row(a, "low", "loyal", 0),  # nothing moved
            _row(b, "high", "at_risk", 1),  # moved on all three
            _row(c, "medium", "champions", 1),  # nothing moved
            _row(d, "low", "new", 0),  # now banded (not a move: it had no band), cluster moved
            _row(e, "low", "new", 3),  # new customer
        ]
    )

    stability = second.metrics["stability"]
    # Hand-computed: 4 customers in both runs; bands on both sides for a, b, c (1 of 3 moved), segments for
    # all four (1 of 4), clusters for all four (b and d: 2 of 4).
    assert stability["previous_run"] == str(first.pk)
    assert stability["compared"] == 4
    assert stability["new_customers"] == 1
    assert stability["moved"] == {"churn_band": round(1 / 3, 6), "rfm_segment": 0.25, "cluster": 0.5}
    assert stability["counted"] == {"churn_band": 3, "rfm_segment": 4, "cluster": 4}
    assert second.metrics["churn"] == {"window_days": 90}  # the fit's metrics are kept beside it
    stored = CustomerProfile.objects.get(run=second, customer=d)
    assert (stored.churn_status, stored.churn_band) == ("scored", "low")


def test_staged_rows_carry_status_band_and_explanation_and_default_when_absent():
    frame = pd.DataFrame(
        {
            "customer_id": ["1", "2"],
            "churn_status": ["too_new", "bogus"],
            "churn_band": ["", "high"],
            "churn_factors": [
                [],
                [{"feature": "recency_days", "value": 240, "typical": 60.0, "effect": 0.2231}],
            ],
            "offer_reasons": [
                [{"category": "B", "because": ["A"], "lift": 3.1, "confidence": 0.42, "source": "rules"}],
                [],
            ],
        }
    )
    staged = staged_frame(frame)
    assert staged["churn_status"].tolist() == ["too_new", ""]
    assert staged["churn_band"].tolist() == ["", "high"]
    assert staged["explanation"].tolist() == [
        {
            "churn_factors": [],
            "offer_reasons": [
                {"category": "B", "because": ["A"], "lift": 3.1, "confidence": 0.42, "source": "rules"}
            ],
        },
        {
            "churn_factors": [{"feature": "recency_days", "value": 240, "typical": 60.0, "effect": 0.2231}],
            "offer_reasons": [],
        },
    ]
    bare = staged_frame(pd.DataFrame({"customer_id": ["3"]}))
    assert bare["churn_status"].tolist() == [""] and bare["churn_band"].tolist() == [""]
    assert bare["explanation"].tolist() == [{"churn_factors": [], "offer_reasons": []}]
