"""segment_update holds the segment rules: only managers' rule segments change, and they are recounted."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from profiles.models import Segment
from profiles.services.segments import segment_create, segment_update
from profiles.tests.test_views import _published

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(sales_user):
    return _published(CustomerFactory.create_batch(3, owner=sales_user))


def test_segment_update_refuses_an_automatic_segment(run):
    automatic = Segment.objects.get(key="rfm:champions")
    with pytest.raises(ValidationError) as caught:
        segment_update(segment=automatic, name="Mine now", rule=[])
    assert caught.value.code == "automatic"
    stored = Segment.objects.get(pk=automatic.pk)
    assert stored.name == automatic.name and stored.rule == automatic.rule


def test_segment_update_changes_the_given_fields_and_recounts(run):
    segment = segment_create(name="Lost", rule=[{"field": "rfm_segment", "op": "eq", "value": "lost"}])
    assert segment.member_count == 2
    segment_update(segment=segment, rule=[{"field": "rfm_segment", "op": "eq", "value": "champions"}])
    stored = Segment.objects.get(pk=segment.pk)
    assert (stored.name, stored.member_count) == ("Lost", 1)


def test_editing_an_automatic_segment_through_the_form_says_why_and_changes_nothing(
    client, manager_user, run
):
    automatic = Segment.objects.get(key="rfm:champions")
    client.force_login(manager_user)
    response = client.post(
        reverse("profiles:segment-update", args=[automatic.pk]),
        {"name": "Renamed", "field_1": "rfm_segment", "op_1": "eq", "value_1": "lost"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("profiles:segment-detail", args=[automatic.pk])
    assert "cannot be edited" in response.content.decode()
    assert Segment.objects.get(pk=automatic.pk).name == automatic.name


def test_manager_edits_a_rule_segment_through_the_form(client, manager_user, run):
    segment = segment_create(name="Lost", rule=[{"field": "rfm_segment", "op": "eq", "value": "lost"}])
    client.force_login(manager_user)
    response = client.post(
        reverse("profiles:segment-update", args=[segment.pk]),
        {"name": "Champions", "field_1": "rfm_segment", "op_1": "eq", "value_1": "champions"},
    )
    assert response.status_code == 302
    stored = Segment.objects.get(pk=segment.pk)
    assert (stored.name, stored.member_count) == ("Champions", 1)


def test_admin_edits_a_rule_segment_through_segment_update_and_recounts(client, manager_user, run):
    segment = segment_create(name="Lost", rule=[{"field": "rfm_segment", "op": "eq", "value": "lost"}])
    client.force_login(manager_user)
    response = client.post(
        reverse("admin:profiles_segment_change", args=[segment.pk]),
        {
            "name": "Champions",
            "description": "",
            "rule": '[{"field": "rfm_segment", "op": "eq", "value": "champions"}]',
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    stored = Segment.objects.get(pk=segment.pk)
    assert (stored.name, stored.member_count) == ("Champions", 1)


def test_admin_adds_a_counted_rule_segment(client, manager_user, run):
    client.force_login(manager_user)
    response = client.post(
        reverse("admin:profiles_segment_add"),
        {
            "name": "Lost",
            "description": "",
            "rule": '[{"field": "rfm_segment", "op": "eq", "value": "lost"}]',
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    stored = Segment.objects.get(name="Lost", kind=Segment.Kind.MANUAL)
    assert (stored.member_count, stored.created_by) == (2, manager_user)


def test_admin_cannot_change_an_automatic_segment(client, manager_user, run):
    automatic = Segment.objects.get(key="rfm:champions")
    client.force_login(manager_user)
    response = client.post(
        reverse("admin:profiles_segment_change", args=[automatic.pk]),
        {"name": "Renamed", "description": "", "rule": "[]"},
    )
    assert response.status_code == 403
    assert Segment.objects.get(pk=automatic.pk).name == automatic.name
