"""The campaign workflow (a table of allowed moves) and who sees which campaign."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from marketing.models import Campaign
from marketing.selectors.campaigns import campaign_get, campaign_list
from marketing.services.campaigns import TRANSITIONS, campaign_create, campaign_transition
from marketing.tests.factories import CampaignFactory, VariantFactory

Status = Campaign.Status


@pytest.mark.django_db
def test_campaign_goes_through_its_workflow_and_may_pause_and_resume():
    campaign = CampaignFactory(scheduled_at=timezone.now() + timedelta(days=1))
    VariantFactory(campaign=campaign, key="A", share=0.5)
    VariantFactory(campaign=campaign, key="B", share=0.5)
    for status in (Status.SCHEDULED, Status.SENDING, Status.PAUSED, Status.SENDING, Status.FINISHED):
        campaign_transition(campaign=campaign, status=status)
        campaign.refresh_from_db()
        assert campaign.status == status


@pytest.mark.django_db
def test_campaign_transition_refuses_an_illegal_move_naming_both_statuses():
    campaign = CampaignFactory(name="Spring sale")
    with pytest.raises(ValidationError) as caught:
        campaign_transition(campaign=campaign, status=Status.FINISHED)
    assert caught.value.message_dict["status"] == [
        "Campaign “Spring sale” cannot go from Draft to Finished (allowed: Scheduled, Cancelled)."
    ]
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT


@pytest.mark.django_db
def test_finished_and_cancelled_campaigns_are_final():
    assert TRANSITIONS[Status.FINISHED] == () and TRANSITIONS[Status.CANCELLED] == ()
    campaign = CampaignFactory(name="Done", status=Status.FINISHED)
    with pytest.raises(ValidationError, match=r"from Finished to Sending \(allowed: none\)"):
        campaign_transition(campaign=campaign, status=Status.SENDING)


@pytest.mark.django_db
def test_scheduling_needs_a_time_and_variants_adding_up_to_100_percent():
    campaign = CampaignFactory()
    VariantFactory(campaign=campaign, key="A", share=0.5)
    with pytest.raises(ValidationError, match="Set when the campaign is to be sent"):
        campaign_transition(campaign=campaign, status=Status.SCHEDULED)
    campaign.scheduled_at = timezone.now()
    with pytest.raises(ValidationError, match=r"add up to 100% \(they add up to 50.0%\)"):
        campaign_transition(campaign=campaign, status=Status.SCHEDULED)


@pytest.mark.django_db
def test_campaign_create_draws_a_seed_and_validates_holdout_and_conversion(sales_user):
    campaign = campaign_create(
        name="Winter",
        channel=Campaign.Channel.SMS,
        owner=sales_user,
        variants=[{"key": "a", "share": 0.5}, {"key": "b", "share": 0.5}],
        holdout_share=0.2,
    )
    assert campaign.seed and campaign.status == Status.DRAFT
    assert list(campaign.variants.values_list("key", flat=True)) == ["A", "B"]
    assert (
        campaign_create(name="W2", channel="sms", owner=sales_user, variants=[{"key": "A"}]).seed
        != campaign.seed
    )
    with pytest.raises(ValidationError) as caught:
        campaign_create(name="X", channel="sms", owner=sales_user, variants=[{"key": "A"}], holdout_share=0.6)
    assert "holdout_share" in caught.value.message_dict
    with pytest.raises(ValidationError, match="Choose at least one category"):
        campaign_create(
            name="Y", channel="sms", owner=sales_user, variants=[{"key": "A"}], conversion="categories"
        )


@pytest.mark.django_db
def test_campaigns_are_seen_by_their_owner_and_managers(make_user, manager_user):
    alice, bob = make_user("mkt_a", "Marketing"), make_user("mkt_b", "Marketing")
    own = CampaignFactory(owner=alice)
    others = CampaignFactory(owner=bob)
    assert list(campaign_list(user=alice)) == [own]
    assert campaign_get(user=alice, pk=others.pk) is None
    assert campaign_get(user=alice, pk="not-a-uuid") is None
    assert set(campaign_list(user=manager_user)) == {own, others}
