"""Reads of profiles data. Everything a reader sees comes from the single active run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from typing import Any

import pandas as pd
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from crm_site.db import bulk_reads, is_mongodb
from profiles.models import (
    RFM_SEGMENT_LABELS,
    AssociationRule,
    CustomerProfile,
    CustomerProfileQuerySet,
    Event,
    ProfileRun,
    Segment,
)
from profiles.pipeline.frames import to_utc
from profiles.rules import rule_q

User = AbstractBaseUser | AnonymousUser


def active_run() -> ProfileRun | None:
    """The published run every reader uses (None before the first rebuild succeeded)."""
    return ProfileRun.objects.filter(is_active=True).order_by("-finished_at").first()


def profiles_visible(*, user: User, run: ProfileRun | None = None) -> QuerySet[CustomerProfile]:
    """Profiles of the active run whose customers the user may see."""
    run = run if run is not None else active_run()
    if run is None:
        return CustomerProfile.objects.none()
    return CustomerProfile.objects.filter(run=run).visible_to(user)


def customer_profile_get(*, user: User, customer_id: Any, run: ProfileRun | None = None) -> CustomerProfile:
    """The active profile of one visible customer, or 404 (others' customers answer 404 too)."""
    profile = (
        profiles_visible(user=user, run=run).select_related("customer", "run").filter(customer_id=customer_id)
    ).first()
    if profile is None:
        raise Http404
    return profile


def customer_profile_for_card(*, user: User, customer: Any, run: ProfileRun | None) -> CustomerProfile | None:
    """The profile shown on a customer's page: one indexed lookup when the page checked that customer."""
    if run is None:
        return None
    return CustomerProfile.objects.filter(run=run).visible_to(user, within=customer).first()


def targetable_profiles(*, run: ProfileRun) -> CustomerProfileQuerySet:
    """Profiles of ``run`` that segments may target: every customer except those who refused profiling
    (PIPL Art. 24: "is not targeted by computed segments"; ``customers.selectors.consent``). A lazy
    subquery, so members, counts and exports keep their query counts; a refusal applies at once, not
    only from the next run."""
    from customers.models import ConsentPurpose
    from customers.selectors.consent import consenting_customer_filter

    return CustomerProfile.objects.filter(run=run).filter(
        consenting_customer_filter(ConsentPurpose.PROFILING, prefix="customer__")
    )


def segment_members(
    *, segment: Segment, user: User, run: ProfileRun | None = None, filters: dict[str, Any] | None = None
) -> QuerySet:
    """Profiles of the active run matching the segment's rule, narrowed to what the user may see,
    without the customers who refused profiling (``targetable_profiles``).

    ``filters`` are a ``MemberFilterForm``'s cleaned values: q (customer name), rfm_segment, min_churn,
    min_clv.
    """
    run = run if run is not None else active_run()
    if run is None:
        return CustomerProfile.objects.none()
    profiles = (
        targetable_profiles(run=run)
        .visible_to(user)
        .filter(rule_q(segment.rule))
        .select_related("customer")
        .order_by("-clv_12m", "customer_id")
    )
    filters = filters or {}
    if filters.get("q"):
        profiles = profiles.filter(customer__name__icontains=filters["q"])
    if filters.get("rfm_segment"):
        profiles = profiles.filter(rfm_segment=filters["rfm_segment"])
    if filters.get("min_churn") is not None:
        profiles = profiles.filter(churn_risk__gte=filters["min_churn"])
    if filters.get("min_clv") is not None:
        profiles = profiles.filter(clv_12m__gte=filters["min_clv"])
    return profiles


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.select_related("run").order_by("kind", "-member_count", "name")


def segment_counts() -> dict[str, int]:
    """How many segments of each kind ({"manual": n, "rfm": n, ...}), one grouped query."""
    rows = Segment.objects.order_by().values("kind").annotate(n=Count("pk"))
    return {row["kind"]: row["n"] for row in rows}


def segment_get(*, pk: Any) -> Segment:
    segment = Segment.objects.select_related("run").filter(pk=pk).first()
    if segment is None:
        raise Http404
    return segment


def run_list(*, limit: int = 20) -> list[ProfileRun]:
    return list(ProfileRun.objects.select_related("requested_by").order_by("-created_at")[:limit])


def run_get(*, pk: Any) -> ProfileRun:
    run = ProfileRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


def rules_of(*, run: ProfileRun | None, limit: int = 20) -> list[AssociationRule]:
    if run is None:
        return []
    return list(AssociationRule.objects.filter(run=run).order_by("-lift", "consequent")[:limit])


def grouped_counts(profiles: QuerySet, *fields: str) -> list[dict[str, Any]]:
    """Counts per value of ``fields`` in one GROUP BY query."""
    return list(profiles.values(*fields).annotate(n=Count("pk")).order_by(*fields))


# Only these event types carry properties the pipeline reads (search query; amount/quantity/price
# checks). Parsing JSON for every page view was a large share of reading 10M events.
PROPERTY_EVENT_TYPES = ("search", "add_to_cart", "purchase", "coupon_use")


def _event_frame(rows: list[tuple], parsed: dict[str, Any] | None) -> pd.DataFrame:
    """One chunk as columns; ``parsed`` (the read's cache of parsed properties) when it has properties."""
    columns = list(zip(*rows, strict=True))
    frame = pd.DataFrame(
        {
            # Categoricals: one copy of each distinct string instead of one object per row. Ids are text
            # (bulk_reads); a missing customer stays missing (None): cleaning drops and counts it.
            "customer_id": pd.Categorical(columns[0]),
            "event_type": pd.Categorical(columns[1]),
            # NaT (not an error) where datetime64[ns] cannot hold a stored moment: cleaning counts it.
            "occurred_at": to_utc(pd.Series(columns[2], dtype=object)),
            "channel": pd.Categorical(columns[3]),
        }
    )
    frame["properties"] = (
        None if parsed is None else pd.Series(_shared_properties(columns[4], parsed), dtype=object)
    )
    return frame


def _shared_properties(values: tuple[Any, ...], parsed: dict[str, Any]) -> list[Any]:
    """Properties as dicts; JSON texts (SQL backends) are parsed once per distinct text, so the many
    events with the same properties (a popular search) share one dict. The pipeline only reads them.
    A dict per event was the largest part of the 10 M-event frame (~300 bytes each)."""
    if len(parsed) > 200_000:
        parsed.clear()
    result = []
    for value in values:
        if isinstance(value, str):
            found = parsed.get(value)
            if found is None:
                try:
                    found = parsed[value] = json.loads(value)
                except (ValueError, RecursionError):
                    # Text that is not JSON a parser can read (malformed, nested beyond the recursion
                    # limit): kept as text, which cleaning drops and counts as properties not an object.
                    found = parsed[value] = value
            value = found
        result.append(value)
    return result


def _properties_text() -> Any:
    return "properties" if is_mongodb() else Cast("properties", output_field=TextField())


def events_for_profiles(
    *, as_of: datetime | None = None, customer_ids: list[str] | None = None, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Events before ``as_of`` (exclusive) as DataFrame chunks (the pipeline's event columns, ids as
    categoricals).

    Read as tuples straight into columns, in three passes so JSON is parsed only where there is some:
    properties are read for PROPERTY_EVENT_TYPES whose properties are not empty (None elsewhere).
    Idempotency keys are not read: the unique constraint already keeps duplicates out.
    """
    events = Event.objects.all()
    if as_of is not None:
        events = events.filter(occurred_at__lt=as_of)
    if customer_ids is not None:
        events = events.filter(customer_id__in=customer_ids)
    fields = ("customer_id", "event_type", "occurred_at", "channel")
    typed = events.filter(event_type__in=PROPERTY_EVENT_TYPES)
    passes = (
        (False, events.exclude(event_type__in=PROPERTY_EVENT_TYPES).values_list(*fields)),
        (False, typed.filter(properties={}).values_list(*fields)),
        # As text where the database can say it (parsed once per distinct text); MongoDB gives dicts.
        (True, typed.exclude(properties={}).values_list(*fields, _properties_text())),
    )
    with bulk_reads():
        for with_properties, queryset in passes:
            rows = queryset.order_by().iterator(chunk_size=chunk_size)
            parsed: dict[str, Any] | None = {} if with_properties else None  # one cache per read
            while chunk := list(islice(rows, chunk_size)):
                yield _event_frame(chunk, parsed)


def dashboard_data(*, user: User) -> dict[str, Any]:
    """Chart data from grouped DB aggregates over the profiles the user may see (four queries)."""
    from profiles.services.rows import CLV_EDGES

    run = active_run()
    profiles = profiles_visible(user=user, run=run)
    segments = [
        (str(RFM_SEGMENT_LABELS.get(row["rfm_segment"], row["rfm_segment"])) or _("No purchases"), row["n"])
        for row in grouped_counts(profiles, "rfm_segment")
    ]
    grid = {
        (row["r_score"], row["f_score"]): row["n"] for row in grouped_counts(profiles, "r_score", "f_score")
    }
    clv = {row["clv_bucket"]: row["n"] for row in grouped_counts(profiles, "clv_bucket")}
    churn = {row["churn_bucket"]: row["n"] for row in grouped_counts(profiles, "churn_bucket")}
    # Grouped per the reader's language, as every amount is ("5,000–10,000").
    edges = [number_format(edge, use_l10n=True, force_grouping=True) for edge in CLV_EDGES]
    clv_labels = [f"{low}–{high}" for low, high in zip(edges, edges[1:], strict=False)] + [f"{edges[-1]}+"]
    return {
        "run": run,
        "segment_sizes": sorted(segments, key=lambda item: -item[1]),
        "rfm_grid": [{"r": r, "cells": [grid.get((r, f), 0) for f in range(1, 6)]} for r in range(5, 0, -1)],
        "clv_histogram": [(label, clv.get(index, 0)) for index, label in enumerate(clv_labels)],
        "churn_histogram": [(f"{i * 10}–{i * 10 + 10}%", churn.get(i, 0)) for i in range(10)],
        "total": sum(count for _name, count in segments),
    }


def profile_change_timeline(*, customer: Any, user: User, cursor: Any, limit: int) -> list[Any]:
    """The timeline source of profile changes: one keyset query on (customer, occurred_at, id).

    Entries carry no link: the profile page needs a permission many readers of the timeline lack, and
    asking costs the page two permission queries; the customer page's profile card shows the portrait.
    """
    from crm_site.timeline import TimelineEntry, before_q, choice_labels
    from profiles.labels import profile_change_text
    from profiles.models import ProfileChange

    rows = (
        ProfileChange.objects.visible_to(user, within=customer)
        .filter(before_q(cursor, kind="profile_change", when_field="occurred_at"))
        .order_by("-occurred_at", "-id")[:limit]
    )
    sources = choice_labels(ProfileChange, "source")
    return [
        TimelineEntry(
            when=row.occurred_at,
            kind="profile_change",
            key=str(row.pk),
            title=profile_change_text(row),
            detail=sources.get(row.source, row.source),
            icon=PROFILE_CHANGE_ICONS.get(row.kind, "bi-person-lines-fill"),
        )
        for row in rows
    ]


PROFILE_CHANGE_ICONS = {
    "segment_moved": "bi-diagram-3",
    "churn_risk_up": "bi-graph-up-arrow",
    "value_tier_changed": "bi-gem",
}
