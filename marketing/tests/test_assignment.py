"""Assignment: shares within tolerance, reproducible from the seed, and nobody moves on a re-run."""

import uuid
from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from customers.tests.factories import CustomerFactory
from marketing.models import Assignment, Campaign
from marketing.services.assignment import arms_for, campaign_assign, uniform_draws
from marketing.tests.factories import CampaignFactory, VariantFactory

IDS = [str(uuid.UUID(int=n * 7919 + 17)) for n in range(100_000)]


def test_arms_follow_the_shares_within_tolerance_on_100000_ids():
    arms = arms_for(
        seed=42, customer_ids=IDS, holdout_share=0.2, variants=[("A", 0.5), ("B", 0.3), ("C", 0.2)]
    )
    counts = Counter(arms)
    # Expected: holdout 20%, A 40%, B 24%, C 16%. Binomial sd at n = 100,000 is at most 0.16 points;
    # 0.6 points is beyond 3.5 sd.
    expected = {"holdout": 0.2, "A": 0.4, "B": 0.24, "C": 0.16}
    for arm, share in expected.items():
        assert counts[arm] / len(IDS) == pytest.approx(share, abs=0.006), arm
    assert set(counts) == set(expected)


def test_draws_are_uniform_and_reproducible_from_the_seed():
    draws = uniform_draws(seed=7, customer_ids=IDS)
    assert 0.0 <= draws.min() and draws.max() < 1.0
    assert draws.mean() == pytest.approx(0.5, abs=0.005)
    assert (uniform_draws(seed=7, customer_ids=IDS[:1000]) == draws[:1000]).all()
    other = uniform_draws(seed=8, customer_ids=IDS[:1000])
    assert (other != draws[:1000]).mean() > 0.99
    # The draw is the first 8 bytes of sha256("<seed>:<id>") over 2**64, written out for one id.
    import hashlib

    digest = hashlib.sha256(f"7:{IDS[0]}".encode()).digest()[:8]
    assert draws[0] == int.from_bytes(digest, "big") / 2**64


def test_same_seed_gives_the_same_arms_in_any_order():
    variants = [("A", 0.5), ("B", 0.5)]
    forward = arms_for(seed=99, customer_ids=IDS[:5000], holdout_share=0.1, variants=variants)
    backward = arms_for(seed=99, customer_ids=IDS[:5000][::-1], holdout_share=0.1, variants=variants)
    assert forward == backward[::-1]


@pytest.mark.django_db
def test_campaign_assign_stores_every_customer_once_and_a_rerun_adds_only_the_new():
    campaign = CampaignFactory(holdout_share=0.2)
    VariantFactory(campaign=campaign, key="A", share=0.5)
    VariantFactory(campaign=campaign, key="B", share=0.5)
    first = [CustomerFactory() for _n in range(60)]
    result = campaign_assign(campaign=campaign, customer_ids=[c.pk for c in first], batch_size=25)
    assert result.created_total == 60 and result.already_assigned == 0
    stored = dict(Assignment.objects.filter(campaign=campaign).values_list("customer_id", "arm"))
    assert stored == dict(
        zip(
            [c.pk for c in first],
            arms_for(
                seed=campaign.seed,
                customer_ids=[str(c.pk) for c in first],
                holdout_share=0.2,
                variants=[("A", 0.5), ("B", 0.5)],
            ),
            strict=True,
        )
    )
    # The shares change and new customers join: the first 60 keep their arm, only the 15 new are added.
    campaign.variants.filter(key="A").update(share=0.9)
    campaign.variants.filter(key="B").update(share=0.1)
    campaign.holdout_share = 0.5
    campaign.save()
    later = [CustomerFactory() for _n in range(15)]
    again = campaign_assign(campaign=campaign, customer_ids=[c.pk for c in first + later])
    assert again.created_total == 15 and again.already_assigned == 60
    after = dict(Assignment.objects.filter(campaign=campaign).values_list("customer_id", "arm"))
    assert {pk: after[pk] for pk in stored} == stored
    assert len(after) == 75


@pytest.mark.django_db
def test_campaign_assign_is_refused_for_a_finished_campaign():
    campaign = CampaignFactory(status=Campaign.Status.FINISHED)
    VariantFactory(campaign=campaign)
    with pytest.raises(ValidationError, match="can no longer change"):
        campaign_assign(campaign=campaign, customer_ids=[CustomerFactory().pk])
    assert not Assignment.objects.exists()
