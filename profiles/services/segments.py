"""Segments: managers' rule segments, and the automatic RFM and cluster segments of each run."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import override

from crm_site.db import atomic
from crm_site.services import UNCHANGED, Unchanged, given, model_update
from profiles.models import ProfileRun, Segment
from profiles.pipeline.rfm import RFM_SEGMENT_LABELS
from profiles.rules import rule_q, validate_rule


def segment_create(
    *, name: str, rule: list[dict[str, Any]], description: str = "", created_by: Any = None
) -> Segment:
    """A manager's rule segment, counted against the active run at once."""
    segment = Segment(
        name=name, kind=Segment.Kind.MANUAL, rule=rule, description=description, created_by=created_by
    )
    with atomic():
        segment.full_clean()
        segment.save()
    segment_count(segment=segment)
    return segment


SEGMENT_FIELDS = ["name", "rule", "description"]


def segment_update(
    *,
    segment: Segment,
    name: str | Unchanged = UNCHANGED,
    rule: list[dict[str, Any]] | Unchanged = UNCHANGED,
    description: str | Unchanged = UNCHANGED,
) -> Segment:
    """Change a manager's rule segment and recount it; automatic segments belong to the runs."""
    if segment.kind != Segment.Kind.MANUAL:
        raise ValidationError(
            _("Automatic segments are recomputed by every run and cannot be edited."), code="automatic"
        )
    with atomic():
        segment, _updated = model_update(
            instance=segment,
            fields=SEGMENT_FIELDS,
            data=given(name=name, rule=rule, description=description),
        )
    segment_count(segment=segment)
    return segment


def segment_delete(*, segment: Segment) -> None:
    """Delete a manual segment; automatic segments belong to the runs (a run would bring them back)."""
    if segment.kind != Segment.Kind.MANUAL:
        raise ValidationError(
            _("Automatic segments are recomputed by every run and cannot be deleted."), code="automatic"
        )
    segment.delete()


def segment_count(*, segment: Segment, run: ProfileRun | None = None) -> int:
    """Store how many profiles of the active run the rule matches (all customers, not per user; not
    those who refused profiling)."""
    from profiles.selectors import active_run, targetable_profiles

    run = run or active_run()
    count = 0 if run is None else targetable_profiles(run=run).filter(rule_q(segment.rule)).count()
    Segment.objects.filter(pk=segment.pk).update(member_count=count, counted_at=timezone.now(), run=run)
    segment.member_count = count
    return count


def _english(label: Promise) -> str:
    """The untranslated text of ``label``: automatic segments store it, pages translate by key."""
    with override(None):
        return str(label)


def _automatic(run: ProfileRun) -> list[tuple[str, str, str, list[dict[str, Any]]]]:
    """(kind, key, name, rule) of every automatic segment of ``run``."""
    wanted: list[tuple[str, str, str, list[dict[str, Any]]]] = [
        (
            Segment.Kind.RFM,
            f"rfm:{name}",
            _english(label),
            [{"field": "rfm_segment", "op": "eq", "value": name}],
        )
        for name, label in RFM_SEGMENT_LABELS.items()
    ]
    for cluster in run.fitted.get("clusters") or []:
        number = int(cluster["cluster"])
        wanted.append(
            (
                Segment.Kind.CLUSTER,
                f"cluster:{number}",
                f"#{number} {cluster.get('name') or ''}".strip(),
                [{"field": "cluster", "op": "eq", "value": number}],
            )
        )
    return wanted


def segments_refresh(*, run: ProfileRun) -> int:
    """Upsert the run's automatic segments (stable ids by key), drop vanished clusters, recount all
    (members who refused profiling are not counted: ``profiles.selectors.targetable_profiles``)."""
    from profiles.selectors import targetable_profiles

    wanted = _automatic(run)
    keys = {key for _kind, key, _name, _rule in wanted}
    with atomic():
        existing = {segment.key: segment for segment in Segment.objects.exclude(kind=Segment.Kind.MANUAL)}
        for kind, key, name, rule in wanted:
            segment = existing.get(key) or Segment(kind=kind, key=key)
            segment.name, segment.rule, segment.run = name, validate_rule(rule), run
            segment.save()
        stale = [segment.pk for key, segment in existing.items() if key not in keys]
        if stale:
            Segment.objects.filter(pk__in=stale).delete()
    # Automatic segments: one grouped query each; manual rules: one COUNT each.
    rfm_counts = _grouped(run, "rfm_segment")
    cluster_counts = _grouped(run, "cluster")
    now = timezone.now()
    for segment in Segment.objects.all():
        if segment.kind == Segment.Kind.RFM:
            count = rfm_counts.get(segment.key.split(":", 1)[1], 0)
        elif segment.kind == Segment.Kind.CLUSTER:
            count = cluster_counts.get(int(segment.key.split(":", 1)[1]), 0)
        else:
            count = targetable_profiles(run=run).filter(rule_q(segment.rule)).count()
        Segment.objects.filter(pk=segment.pk).update(member_count=count, counted_at=now, run=run)
    return len(wanted)


def _grouped(run: ProfileRun, field: str) -> dict[Any, int]:
    from django.db.models import Count

    from profiles.selectors import targetable_profiles

    rows = targetable_profiles(run=run).order_by().values(field).annotate(n=Count("pk"))
    return {row[field]: row["n"] for row in rows}
