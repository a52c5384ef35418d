from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from profiles.models import CustomerProfile, ProfileRun
from profiles.rules import validate_rule
from profiles.services.rebuild import profile_rebuild_sync
from profiles.services.segments import segment_create


@pytest.mark.parametrize(
    "rule, message",
    [
        ([{"field": "password", "op": "eq", "value": "x"}], "unknown field"),
        ([{"field": "clv_12m", "op": "regex", "value": "x"}], "unknown operator"),
        ([{"field": "region", "op": "gt", "value": "x"}], "numeric field"),
        ([{"field": "clv_12m", "op": "gte", "value": "many"}], "not a number"),
        ([{"field": "clv_12m", "op": "gte"}], "exactly a field"),
        ({"field": "clv_12m"}, "list of conditions"),
    ],
)
def test_segment_rule_validation_rejects_bad_conditions(rule, message):
    with pytest.raises(ValidationError) as error:
        validate_rule(rule)
    assert message in " ".join(error.value.messages)


def test_segment_rule_types_values():
    rule = validate_rule([{"field": "r_score", "op": "in", "value": "4, 5"}])
    assert rule == [{"field": "r_score", "op": "in", "value": [4.0, 5.0]}]


def test_segment_membership_follows_the_rule(old_run, history):
    CustomerProfile.objects.filter(customer=history[0]).update(clv_12m=900, offers_text="|图书 Books|")
    rich = segment_create(name="Rich", rule=[{"field": "clv_12m", "op": "gte", "value": 500}])
    books = segment_create(
        name="Books", rule=[{"field": "next_best_offers", "op": "eq", "value": "图书 Books"}]
    )
    not_books = segment_create(
        name="No books", rule=[{"field": "next_best_offers", "op": "ne", "value": "图书 Books"}]
    )
    assert (rich.member_count, books.member_count, not_books.member_count) == (1, 1, len(history) - 1)
    with pytest.raises(ValidationError):
        segment_create(name="Bad", rule=[{"field": "nope", "op": "eq", "value": 1}])


def test_new_event_refreshes_that_customers_profile(history, django_capture_on_commit_callbacks):
    import json

    from django.test import Client

    from crm_site.api import api_token_create

    run = profile_rebuild_sync()
    customer = history[1]
    before = CustomerProfile.objects.get(run=run, customer=customer)
    assert before.refreshed_at is None
    user = customer.owner
    _token, key = api_token_create(name="app", user=user)
    event = {
        "customer_id": str(customer.pk),
        "event_type": "search",
        "occurred_at": timezone.now().isoformat(),
        "properties": {"query": "蓝牙耳机"},
        "channel": "mini_program",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/api/events/",
            json.dumps([event]),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
    assert response.json()["stored"] == 1
    after = CustomerProfile.objects.get(run=run, customer=customer)
    assert after.refreshed_at is not None
    assert "蓝牙耳机" in after.interests["search_terms"]
    assert CustomerProfile.objects.filter(run=run, refreshed_at__isnull=False).count() == 1


def test_new_order_refreshes_that_customers_profile(history, django_capture_on_commit_callbacks):
    from crm_site.signals import customer_activity
    from orders.tests.factories import OrderLineFactory

    run = profile_rebuild_sync()
    customer = history[2]
    before = CustomerProfile.objects.get(run=run, customer=customer)
    OrderLineFactory(order__customer=customer, order__ordered_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        customer_activity.send(sender=None, customer_ids=[customer.pk])
    after = CustomerProfile.objects.get(run=run, customer=customer)
    assert after.frequency == before.frequency + 1
    assert after.recency_days < 1


def test_nightly_schedule_exists_after_migrate(db, settings):
    from django_celery_beat.models import PeriodicTask

    from profiles.services.schedule import ensure_profile_schedule

    ensure_profile_schedule()
    ensure_profile_schedule()
    task = PeriodicTask.objects.get(name="Nightly profile rebuild")
    assert task.task == "profiles.rebuild"
    assert (task.crontab.minute, task.crontab.hour) == ("0", "2")
    assert str(task.crontab.timezone) == settings.TIME_ZONE


def test_rebuild_profiles_command_with_as_of(history, capsys):
    call_command(
        "rebuild_profiles", "--sync", "--as-of", (timezone.localdate() - timedelta(days=10)).isoformat()
    )
    run = ProfileRun.objects.get(is_active=True)
    assert timezone.localtime(run.as_of).date() == timezone.localdate() - timedelta(days=9)
    assert "Succeeded" in capsys.readouterr().out
