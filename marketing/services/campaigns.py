"""Campaigns: creation with their variants, and the status workflow as a table."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_site.db import atomic
from marketing.models import Campaign, Variant

Status = Campaign.Status

# draft -> scheduled -> sending -> finished; a send may pause and resume; anything not finished may be
# cancelled; a scheduled campaign goes back to draft to be edited. Finished and cancelled are final (the
# report reads a finished campaign's arms; a cancelled one's ledger stays as it was).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.SCHEDULED, Status.CANCELLED),
    Status.SCHEDULED: (Status.DRAFT, Status.SENDING, Status.CANCELLED),
    Status.SENDING: (Status.PAUSED, Status.FINISHED, Status.CANCELLED),
    Status.PAUSED: (Status.SENDING, Status.CANCELLED),
    Status.FINISHED: (),
    Status.CANCELLED: (),
}
# Variants' shares of the non-holdout audience must add up to 1 within this (float input from forms).
SHARE_TOLERANCE = 1e-6


def allowed_transitions(campaign: Campaign) -> tuple[str, ...]:
    return TRANSITIONS.get(campaign.status, ())


def campaign_transition(*, campaign: Campaign, status: str) -> Campaign:
    """Move a campaign along the workflow; an illegal move is refused with a message naming both statuses."""
    if status not in Status.values:
        raise ValidationError(
            {"status": _("Unknown status “%(status)s”.") % {"status": status}}, code="unknown"
        )
    if status not in allowed_transitions(campaign):
        allowed = ", ".join(str(Status(s).label) for s in allowed_transitions(campaign)) or _("none")
        raise ValidationError(
            {
                "status": _(
                    "Campaign “%(name)s” cannot go from %(current)s to %(target)s (allowed: %(allowed)s)."
                )
                % {
                    "name": campaign.name,
                    "current": campaign.get_status_display(),
                    "target": Status(status).label,
                    "allowed": allowed,
                }
            },
            code="transition",
        )
    if status == Status.SCHEDULED:
        if campaign.scheduled_at is None:
            raise ValidationError(
                {"scheduled_at": _("Set when the campaign is to be sent.")}, code="no_schedule"
            )
        variants_check(shares=list(campaign.variants.values_list("share", flat=True)))
    campaign.status = status
    campaign.save(update_fields=["status", "updated_at"])
    return campaign


def variants_check(*, shares: Iterable[float]) -> None:
    """Refuse a variant split that is empty or whose shares do not add up to 1 (100%)."""
    values = [float(share) for share in shares]
    if not values:
        raise ValidationError(_("Add at least one variant."), code="no_variants")
    if any(not math.isfinite(v) or v <= 0 for v in values) or abs(sum(values) - 1.0) > SHARE_TOLERANCE:
        raise ValidationError(
            _("The variants' shares must be positive and add up to 100%% (they add up to %(total)s%%).")
            % {"total": round(sum(values) * 100, 2)},
            code="shares",
        )


@atomic
def campaign_create(
    *, name: str, channel: str, owner: Any, variants: Iterable[Mapping[str, Any]], **fields: Any
) -> Campaign:
    """A draft campaign with its variants: ``[{"key": "A", "subject": ..., "body": ..., "share": 0.5}]``.

    ``fields`` are the other Campaign fields (segment, scheduled_at, holdout_share, budget...). The seed
    is drawn here, once; the variants' shares must add up to 1.
    """
    given = list(variants)
    variants_check(shares=[v.get("share", 1.0) for v in given])
    campaign = Campaign(name=name, channel=channel, owner=owner, **fields)
    campaign.full_clean()
    campaign.save()
    keys: set[str] = set()
    for data in given:
        variant = Variant(campaign=campaign, **data)
        variant.full_clean(exclude=["campaign"])
        if variant.key in keys:
            raise ValidationError({"key": _("Variant %(key)s is given twice.") % {"key": variant.key}})
        keys.add(variant.key)
        variant.save()
    return campaign
