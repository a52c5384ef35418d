"""Profiles bench, step "retained": the profiles table as production has it before a nightly rebuild.

PostgreSQL only, like the rest of the profiles bench (the copies are one INSERT ... SELECT per table).
"""

from __future__ import annotations

import time


def _rows_copy(model, *, source_id, target_id) -> int:
    """Copy one run's rows of ``model`` to another run with fresh ids (PostgreSQL, one statement)."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns = [field.column for field in model._meta.concrete_fields]
    values = [
        "gen_random_uuid()" if column == "id" else "%s" if column == "run_id" else quote(column)
        for column in columns
    ]
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(quote, columns))}) "  # noqa: S608 - names from the model
            f"SELECT {', '.join(values)} FROM {table} WHERE run_id = %s",
            [target_id, source_id],
        )
        return cursor.rowcount


def _run_copy(source, *, created_at) -> None:
    """A finished, inactive copy of ``source`` (profiles, rules, chunks) as if created at ``created_at``."""
    import uuid

    from profiles.models import AssociationRule, CustomerProfile, ProfileRun, ProfileRunChunk

    copy = ProfileRun.objects.get(pk=source.pk)
    copy.pk, copy.is_active, copy.models_path = uuid.uuid4(), False, ""
    copy._state.adding = True
    copy.save(force_insert=True)
    ProfileRun.objects.filter(pk=copy.pk).update(created_at=created_at)
    for model in (CustomerProfile, AssociationRule, ProfileRunChunk):
        _rows_copy(model, source_id=source.pk, target_id=copy.pk)


def _run_delete(run_id) -> None:
    from profiles.models import AssociationRule, CustomerProfile, ProfileRun, ProfileRunChunk

    for model in (CustomerProfile, AssociationRule, ProfileRunChunk):
        model.objects.filter(run_id=run_id).delete()
    ProfileRun.objects.filter(pk=run_id).delete()


def retained() -> dict:
    """Untimed: an active run over today's customers plus exactly KEEP_RUNS older succeeded runs of the
    same size in the table, what a deployment has after a few nightly rebuilds.

    A rebuild runs in-process first when there is no active run or it does not cover every customer;
    unfinished runs (an interrupted bench) and runs of another size are deleted; missing older runs are
    copies of the active one (same rows, fresh ids).
    """
    from datetime import timedelta

    from customers.models import Customer
    from profiles.models import CustomerProfile, ProfileRun, RebuildLock
    from profiles.services.rebuild import KEEP_RUNS, profile_rebuild_sync, runs_prune

    started = time.perf_counter()
    RebuildLock.objects.all().delete()
    for run_id in ProfileRun.objects.exclude(status=ProfileRun.Status.SUCCEEDED).values_list("pk", flat=True):
        _run_delete(run_id)
    customers = Customer.objects.count()
    active = ProfileRun.objects.filter(is_active=True).first()
    if active is None or CustomerProfile.objects.filter(run=active).count() != customers:
        # No run yet, or one from before the last seeding: a run over today's customers first.
        active = profile_rebuild_sync(trigger="command")
    rows = CustomerProfile.objects.filter(run=active).count()
    for run in ProfileRun.objects.filter(is_active=False):
        if CustomerProfile.objects.filter(run=run).count() != rows:
            _run_delete(run.pk)  # a run of another size would not be what production keeps
    runs_prune(keep=KEEP_RUNS)
    older = ProfileRun.objects.filter(is_active=False).order_by("created_at")
    oldest = older.first().created_at if older.exists() else active.created_at
    for age in range(1, KEEP_RUNS - older.count() + 1):
        _run_copy(active, created_at=oldest - timedelta(days=age))
    return {
        "seconds": time.perf_counter() - started,
        "keep": KEEP_RUNS,
        "runs": ProfileRun.objects.count(),
        "profiles": CustomerProfile.objects.count(),
        "per_run": rows,
    }
