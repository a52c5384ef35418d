from datetime import date, timedelta

import pytest
from django.utils import timezone

from profiles import selectors
from profiles.models import AssociationRule, CustomerProfile, ProfileRun, Segment
from profiles.services import rebuild
from profiles.services.lock import lock_holder
from profiles.tests.factories import EventFactory


def test_rebuild_writes_one_profile_per_customer_and_activates_the_run(
    history, manager_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = rebuild.profile_rebuild_start(requested_by=manager_user, chunk_size=7)
    run.refresh_from_db()
    assert run.status == ProfileRun.Status.SUCCEEDED
    assert run.is_active and selectors.active_run() == run
    assert run.chunks_total == 5 and run.chunks_done == 5
    assert CustomerProfile.objects.filter(run=run).count() == len(history)
    buyers = CustomerProfile.objects.filter(run=run, frequency__gt=0)
    assert buyers.count() == len(history)
    assert buyers.exclude(rfm_segment="").count() == len(history)
    assert run.timings["read"] >= 0 and "events_dropped" in run.cleaning
    assert lock_holder() is None
    rfm = Segment.objects.filter(kind=Segment.Kind.RFM)
    assert sum(rfm.values_list("member_count", flat=True)) == len(history)
    assert run.fitted["params"]["clv_months"] == 12
    assert run.counts["profiles"] == len(history)
    assert AssociationRule.objects.filter(run=run).count() == run.counts["rules"]


def test_second_rebuild_is_refused_while_one_holds_the_lock(history):
    first = rebuild.profile_rebuild_start(dispatch=False)
    with pytest.raises(rebuild.RebuildInProgress):
        rebuild.profile_rebuild_start(dispatch=False)
    assert not ProfileRun.objects.exclude(pk=first.pk).exists()


def test_an_expired_lock_can_be_taken_over(history):
    from profiles.models import RebuildLock

    rebuild.profile_rebuild_start(dispatch=False)
    RebuildLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert rebuild.profile_rebuild_start(dispatch=False).pk


def test_failed_run_leaves_the_previous_active_run(old_run, monkeypatch, django_capture_on_commit_callbacks):
    good = old_run

    def broken(*args, **kwargs):
        raise RuntimeError("pipeline exploded")

    monkeypatch.setattr("profiles.pipeline.run_pipeline", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        rebuild.profile_rebuild_start()
    failed = ProfileRun.objects.exclude(pk=good.pk).get()
    assert failed.status == ProfileRun.Status.FAILED and "pipeline exploded" in failed.error
    assert selectors.active_run() == good
    assert lock_holder() is None


def test_interrupted_run_keeps_old_run_visible_and_resume_finishes_it(
    history, old_run, django_capture_on_commit_callbacks
):
    old = old_run
    run = rebuild.profile_rebuild_start(dispatch=False, chunk_size=10)
    rebuild.profile_compute(run_id=run.pk)
    rebuild.profile_write_chunk(run_id=run.pk, chunk_index=0)
    # The worker died here: readers still see the old complete run.
    assert selectors.active_run() == old
    assert CustomerProfile.objects.filter(run=old).count() == len(history)
    assert rebuild.missing_chunks(run_id=run.pk) == [1, 2]
    with django_capture_on_commit_callbacks(execute=True):
        rebuild.profile_rebuild_resume(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ProfileRun.Status.SUCCEEDED and selectors.active_run() == run
    assert CustomerProfile.objects.filter(run=run).count() == len(history)


def test_rewriting_a_chunk_is_idempotent(history):
    run = rebuild.profile_rebuild_start(dispatch=False, chunk_size=100)
    rebuild.profile_compute(run_id=run.pk)
    rebuild.profile_write_chunk(run_id=run.pk, chunk_index=0)
    rebuild.profile_write_chunk(run_id=run.pk, chunk_index=0)
    assert CustomerProfile.objects.filter(run=run).count() == len(history)


def test_as_of_excludes_later_data(history):
    customer = history[0]
    cutoff = timezone.localdate() - timedelta(days=30)
    EventFactory(customer=customer, event_type="app_open", occurred_at=timezone.now() - timedelta(days=1))
    from orders.tests.factories import OrderLineFactory

    OrderLineFactory(order__customer=customer, order__ordered_at=timezone.now() - timedelta(days=2))
    run = rebuild.profile_rebuild_sync(as_of=rebuild.end_of_day(cutoff))
    profile = CustomerProfile.objects.get(run=run, customer=customer)
    assert run.as_of == rebuild.end_of_day(cutoff)
    # Recency is measured from the as-of moment, and orders after it are not counted.
    from orders.models import SalesOrder

    before = SalesOrder.objects.filter(customer=customer, ordered_at__lt=run.as_of).count()
    assert profile.frequency == before < SalesOrder.objects.filter(customer=customer).count()
    assert profile.recency_days >= 0


def test_end_of_day_is_the_start_of_the_next_local_day():
    moment = rebuild.end_of_day(date(2025, 1, 31))
    assert timezone.localtime(moment).date() == date(2025, 2, 1)
    assert timezone.localtime(moment).hour == 0


def test_old_runs_are_pruned(old_run):
    from profiles.tests.factories import ProfileRunFactory

    older = [ProfileRunFactory() for _ in range(rebuild.KEEP_RUNS)]
    ProfileRun.objects.filter(pk__in=[r.pk for r in older]).update(
        created_at=timezone.now() - timedelta(days=9)
    )
    newest = rebuild.profile_rebuild_sync()
    remaining = set(ProfileRun.objects.values_list("pk", flat=True))
    assert newest.pk in remaining and old_run.pk in remaining
    assert len({r.pk for r in older} - remaining) == 1
    assert len(remaining) == rebuild.KEEP_RUNS + 1
    assert not CustomerProfile.objects.exclude(run__in=remaining).exists()


def test_a_failing_chunk_marks_the_run_failed_and_resume_finishes_it(old_run, monkeypatch):
    from profiles.services import storage

    run = rebuild.profile_rebuild_start(dispatch=False, chunk_size=10)
    rebuild.profile_compute(run_id=run.pk)
    real_load = storage.load
    monkeypatch.setattr(storage, "load", lambda path: (_ for _ in ()).throw(OSError("disk gone")))
    with pytest.raises(OSError):
        rebuild.profile_write_chunk(run_id=run.pk, chunk_index=1)
    run.refresh_from_db()
    assert run.status == ProfileRun.Status.FAILED and "disk gone" in run.error
    assert selectors.active_run() == old_run
    monkeypatch.setattr(storage, "load", real_load)
    rebuild.profile_rebuild_resume(run_id=run.pk, dispatch=False)
    for index in rebuild.missing_chunks(run_id=run.pk):
        rebuild.profile_write_chunk(run_id=run.pk, chunk_index=index)
    assert rebuild.profile_publish(run_id=run.pk)
    assert selectors.active_run().pk == run.pk


def test_the_plan_follows_the_run_compute_then_every_chunk_then_publish(history):
    from profiles.services.rebuild import RebuildStep, StepKind

    run = rebuild.profile_rebuild_start(dispatch=False, chunk_size=10)
    key = str(run.pk)
    assert rebuild.rebuild_steps_left(run_id=run.pk) == [RebuildStep(StepKind.COMPUTE, key)]
    writes = rebuild.rebuild_step_run(step=RebuildStep(StepKind.COMPUTE, key))
    assert writes == [RebuildStep(StepKind.WRITE_CHUNK, key, index) for index in range(3)]
    assert rebuild.rebuild_steps_left(run_id=run.pk) == writes
    # Chunks in any order; only the last one to finish unlocks the publish.
    assert rebuild.rebuild_step_run(step=writes[2]) == []
    assert rebuild.rebuild_step_run(step=writes[0]) == []
    assert rebuild.rebuild_steps_left(run_id=run.pk) == [writes[1]]
    assert rebuild.rebuild_step_run(step=writes[1]) == [RebuildStep(StepKind.PUBLISH, key)]
    assert selectors.active_run() is None
    assert rebuild.rebuild_step_run(step=RebuildStep(StepKind.PUBLISH, key)) == []
    assert selectors.active_run() == run
    assert rebuild.rebuild_steps_left(run_id=run.pk) == []


def test_a_fitted_run_whose_staged_chunks_are_gone_is_refitted(history):
    from profiles.services import storage
    from profiles.services.rebuild import RebuildStep, StepKind

    run = rebuild.profile_rebuild_start(dispatch=False, chunk_size=10)
    rebuild.profile_compute(run_id=run.pk)
    storage.remove_staging(run.pk)
    assert rebuild.rebuild_steps_left(run_id=run.pk) == [RebuildStep(StepKind.COMPUTE, str(run.pk))]
    rebuild.rebuild_run_inline(run_id=run.pk)
    assert selectors.active_run() == run
    assert CustomerProfile.objects.filter(run=run).count() == len(history)


def test_pipeline_tunables_come_from_settings_not_the_environment(settings, monkeypatch):
    monkeypatch.setenv("PROFILES_PIPELINE_PARAMS", '{"k_range": [5, 6]}')
    settings.PROFILES_PIPELINE_PARAMS = {"k_range": [2, 4], "cluster_sample_size": 500}
    params = rebuild.pipeline_params()
    assert params.k_range == (2, 4) and params.cluster_sample_size == 500


def test_profiles_code_reads_no_environment_and_tasks_import_services_only_inside_tasks():
    """Tests override settings (no test hooks in production code), and the services import the tasks
    module at their top while the tasks import the services in their bodies: no import cycle."""
    import ast
    from pathlib import Path

    app = Path(rebuild.__file__).resolve().parents[1]
    for path in app.rglob("*.py"):
        if "tests" in path.relative_to(app).parts:
            continue
        assert "os.environ" not in path.read_text() and "getenv" not in path.read_text(), path
    tree = ast.parse((app / "tasks.py").read_text())
    # Module-level imports only (an ``if TYPE_CHECKING:`` block is never run).
    top_level = [node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)]
    top_level += [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    assert not [name for name in top_level if name.startswith("profiles")], top_level


def test_a_customer_who_refused_profiling_gets_no_cluster_and_no_next_best_offer(history, client):
    from customers.models import ConsentPurpose
    from customers.services.consent import consent_record

    refuser, other = history[0], history[1]
    consent_record(customer=refuser, purpose=ConsentPurpose.PROFILING, granted=False, source="request")
    run = rebuild.profile_rebuild_sync()
    mine = CustomerProfile.objects.get(run=run, customer=refuser)
    assert mine.cluster is None and mine.cluster_name == ""
    assert mine.next_best_offers == [] and mine.offers_text == ""
    assert mine.explanation.get("offer_reasons", []) == []
    assert mine.frequency > 0  # the descriptive figures stay
    assert CustomerProfile.objects.get(run=run, customer=other).cluster is not None
    client.force_login(refuser.owner)
    assert "profiling refused" in client.get(refuser.get_absolute_url()).content.decode()
    client.force_login(other.owner)
    assert "profiling refused" not in client.get(other.get_absolute_url()).content.decode()
