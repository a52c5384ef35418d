"""Assignment of a campaign's audience to its arms by a stable hash, stored once and never moved.

Each customer's draw is ``u = first 8 bytes of sha256("<seed>:<customer id>") / 2**64``, uniform on
[0, 1): below the holdout share the customer is in the holdout; the rest of [0, 1) is split between the
variants by their shares (in key order). The same seed and id give the same arm on every machine and
every backend (ids hashed as their canonical text), so a campaign's split can be recomputed and checked.
The hash is a loop over ``hashlib`` (C; ~0.5 µs an id); the arms are picked for a whole batch at once
with numpy.

Stored rows are never updated: a re-run (new customers joined the segment, a retried task) reads the
campaign's assigned ids first and inserts only the others, so nobody changes arm once assigned, even if
the variants' shares were edited since. ``ignore_conflicts`` also covers two runs racing on SQL backends.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import numpy as np
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import atomic, bulk_reads, is_mongodb
from marketing.models import ARM_HOLDOUT, Assignment, Campaign

# Rows per INSERT: large enough that the per-statement cost vanishes, small enough for SQLite's bound
# parameter limit (5 columns x 2,000 rows = 10,000 < 32,766) and for MongoDB's 16 MB message.
BATCH_SIZE = 2_000
# Campaigns whose audience is final: assigning more customers would change what the report measures.
CLOSED = (Campaign.Status.FINISHED, Campaign.Status.CANCELLED)
# Rows per transaction (and per call of the hash): bounds memory and the work a failure loses.
COMMIT_EVERY = 20_000
_SCALE = float(2**64)


@dataclass(frozen=True)
class AssignmentResult:
    """What a run did: customers newly assigned per arm, and how many were assigned before."""

    created: dict[str, int] = field(default_factory=dict)
    already_assigned: int = 0

    @property
    def created_total(self) -> int:
        return sum(self.created.values())


def uniform_draws(*, seed: int, customer_ids: Sequence[str]) -> np.ndarray:
    """The stable uniform [0, 1) draw of each id (see the module docstring)."""
    prefix = f"{seed}:".encode()
    sha256 = hashlib.sha256
    digests = b"".join(sha256(prefix + str(pk).encode()).digest()[:8] for pk in customer_ids)
    return np.frombuffer(digests, dtype=">u8").astype(np.float64) / _SCALE


def arms_for(
    *, seed: int, customer_ids: Sequence[str], holdout_share: float, variants: Sequence[tuple[str, float]]
) -> list[str]:
    """The arm of each id: ``"holdout"`` below ``holdout_share``, else a variant key by its share."""
    if not variants:
        raise ValidationError(
            _("Add at least one variant before assigning the audience."), code="no_variants"
        )
    draws = uniform_draws(seed=seed, customer_ids=customer_ids)
    keys = [key for key, _share in variants]
    shares = np.array([share for _key, share in variants], dtype=np.float64)
    bounds = np.cumsum(shares / shares.sum())
    rest = (draws - holdout_share) / (1.0 - holdout_share) if holdout_share < 1.0 else draws
    index = np.minimum(np.searchsorted(bounds, rest, side="right"), len(keys) - 1)
    labels = np.array([*keys, ARM_HOLDOUT], dtype=object)
    index = np.where(draws < holdout_share, len(keys), index)
    return list(labels[index])


def campaign_assign(
    *, campaign: Campaign, customer_ids: Iterable[Any] | None = None, batch_size: int = BATCH_SIZE
) -> AssignmentResult:
    """Assign the campaign's audience (by default ``marketing.selectors.audience.audience_customer_ids``)
    to its arms; customers assigned before keep their arm and are not written again."""
    if campaign.status in CLOSED:
        raise ValidationError(
            _("Campaign “%(name)s” is %(status)s: its audience can no longer change.")
            % {"name": campaign.name, "status": campaign.get_status_display()},
            code="closed",
        )
    variants = [(v.key, v.share) for v in campaign.variants.order_by("key")]
    if customer_ids is None:
        from marketing.selectors.audience import audience_customer_ids

        customer_ids = audience_customer_ids(campaign=campaign)
    with bulk_reads():
        existing = set(Assignment.objects.filter(campaign=campaign).values_list("customer_id", flat=True))
    wanted = [pk for pk in dict.fromkeys(str(pk) for pk in customer_ids) if pk not in existing]
    created: Counter[str] = Counter()
    now = timezone.now()
    ignore_conflicts = not is_mongodb()  # MongoDB: the pre-read is the guard (no ON CONFLICT there)
    campaign_pk = campaign.pk
    new_row: Any = Assignment  # positional construction (below), which django-stubs does not model
    for start in range(0, len(wanted), COMMIT_EVERY):
        block = wanted[start : start + COMMIT_EVERY]
        arms = arms_for(
            seed=campaign.seed, customer_ids=block, holdout_share=campaign.holdout_share, variants=variants
        )
        # One transaction per block: SQLite commits (an fsync) per statement otherwise; a run that dies
        # midway keeps its committed blocks and the re-run adds the rest.
        with atomic():
            Assignment.objects.bulk_create(
                # Positional arguments in field order (id, campaign, customer, arm, assigned_at): Model's
                # __init__ was a fifth of a profiled 20,000-row run, and its positional path is the short one.
                [new_row(uuid4(), campaign_pk, pk, arm, now) for pk, arm in zip(block, arms, strict=True)],
                batch_size=batch_size,
                ignore_conflicts=ignore_conflicts,
            )
        created.update(arms)
    return AssignmentResult(created=dict(created), already_assigned=len(existing))
