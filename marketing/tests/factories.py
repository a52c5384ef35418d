"""factory_boy factories of the marketing app."""

import factory

from customers.tests.factories import UserFactory
from marketing.models import Campaign, Variant


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = Campaign.Channel.EMAIL
    owner = factory.SubFactory(UserFactory)
    holdout_share = 0.1


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    campaign = factory.SubFactory(CampaignFactory)
    key = "A"
    subject = "Hello"
    share = 1.0
