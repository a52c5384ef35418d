"""Context for the blocks this app adds to other pages (customer detail card, dashboard card)."""

from __future__ import annotations

from typing import Any

from crm_site.visibility import sees_everything
from profiles import selectors
from profiles.presenters import portrait_explained


def customer_profile_card(*, customer: Any, user: Any, **kwargs: Any) -> dict[str, Any]:
    """The customer's portrait from the active run (two queries whatever the data size)."""
    run = selectors.active_run()
    profile = selectors.customer_profile_for_card(user=user, customer=customer, run=run)
    refused = False
    if profile is not None:
        from customers.models import ConsentPurpose
        from customers.selectors.consent import customer_consents_to

        refused = not customer_consents_to(customer_id=customer.pk, purpose=ConsentPurpose.PROFILING)
    return {
        "profile": profile,
        "run": run,
        "customer": customer,
        "profiling_refused": refused,
        "explained": portrait_explained(profile=profile, run=run),
    }


def dashboard_card(*, user: Any, **kwargs: Any) -> dict[str, Any] | None:
    """The profiles card: the active run's portraits; the segments for those who read them (marketing)."""
    if not user.has_perm("profiles.view_customerprofile"):
        return None
    run = selectors.active_run()
    card: dict[str, Any] = {"run": run, "can_rebuild": sees_everything(user)}
    if user.has_perm("profiles.view_segment"):
        counts = selectors.segment_counts()
        card.update(segment_total=sum(counts.values()), segment_manual=counts.get("manual", 0))
    return card


def _profile_change_entries(**kwargs: Any) -> list[Any]:
    return selectors.profile_change_timeline(**kwargs)


def register_timeline() -> None:
    """The customer timeline's "Profile changes" source (crm_site never imports this app)."""
    from django.utils.translation import gettext_lazy as _

    from crm_site.timeline import TimelineSource, timeline_sources

    timeline_sources.register(
        TimelineSource(
            key="profile_change", label=_("Profile changes"), entries=_profile_change_entries, order=60
        )
    )
