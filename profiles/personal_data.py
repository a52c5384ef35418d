"""The profiles app's part of a data-subject request (``crm_site.personal_data``).

Everything here is derived from or reported about the person: erasure deletes their behaviour events,
their portraits (every run's ``CustomerProfile``) and the changes of their portrait. The customer's
profiling refusal, written by the customers handler, keeps the next runs from building a new portrait
into clusters, offers and computed segments.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from crm_site.personal_data import PersonalDataHandler, Rows, fields_of, personal_data
from profiles.models import CustomerProfile, Event, ProfileChange

EVENT_FIELDS = ("event_type", "properties", "occurred_at", "channel", "received_at")
PROFILE_FIELDS = (
    "rfm_segment",
    "recency_days",
    "frequency",
    "monetary",
    "p_alive",
    "clv_12m",
    "churn_risk",
    "cluster_name",
    "interests",
    "next_best_offers",
    "preferred_channel",
    "preferred_hour",
    "preferred_weekday",
    "age_band",
    "region",
    "gender",
    "computed_at",
)
CHANGE_FIELDS = ("kind", "source", "occurred_at", "before", "after", "before_value", "after_value")


def export_profiles(customer_id: Any) -> Rows:
    return {
        "events": [
            fields_of(row, EVENT_FIELDS)
            for row in Event.objects.filter(customer_id=customer_id).order_by("occurred_at")
        ],
        "profiles": [
            fields_of(row, PROFILE_FIELDS)
            for row in CustomerProfile.objects.filter(customer_id=customer_id).order_by("computed_at")
        ],
        "profile_changes": [
            fields_of(row, CHANGE_FIELDS)
            for row in ProfileChange.objects.filter(customer_id=customer_id).order_by("occurred_at")
        ],
    }


def erase_profiles(customer_id: Any, *, request: Any) -> dict[str, int]:
    return {
        "events": Event.objects.filter(customer_id=customer_id).delete()[0],
        "profiles": CustomerProfile.objects.filter(customer_id=customer_id).delete()[0],
        "profile_changes": ProfileChange.objects.filter(customer_id=customer_id).delete()[0],
    }


personal_data.register(
    PersonalDataHandler(
        key="profiles",
        label=gettext_lazy("Behaviour events and portraits"),
        export=export_profiles,
        erase=erase_profiles,
        order=400,
    )
)
