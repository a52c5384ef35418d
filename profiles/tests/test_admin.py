"""Admin of computed outputs: read-only, never deleted by hand, values by label and as percentages."""

import pytest
from django.urls import reverse

from profiles.models import CustomerProfile, ProfileRun
from profiles.tests.test_views import published  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, manager_user):
    manager_user.is_superuser = True
    manager_user.save()
    client.force_login(manager_user)
    return client


def test_computed_outputs_cannot_be_added_changed_or_deleted(superuser_client, published):  # noqa: F811
    run, mine, _theirs = published
    profile = CustomerProfile.objects.filter(run=run).first()
    for name, obj in (("customerprofile", profile), ("profilerun", run)):
        assert superuser_client.get(reverse(f"admin:profiles_{name}_add")).status_code == 403
        delete = reverse(f"admin:profiles_{name}_delete", args=[obj.pk])
        assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
        changelist = superuser_client.get(reverse(f"admin:profiles_{name}_changelist")).content.decode()
        assert 'value="delete_selected"' not in changelist
    assert ProfileRun.objects.filter(pk=run.pk).exists()
    assert CustomerProfile.objects.filter(pk=profile.pk).exists()


def test_profiles_list_shows_labels_and_percentages(superuser_client, published):  # noqa: F811
    page = superuser_client.get(
        reverse("admin:profiles_customerprofile_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Champions" in page and "Lost" in page
    assert ">champions<" not in page
    assert "15%" in page  # churn_risk 0.15000000000000002 (0.05 * 3) shown as a percentage
    assert "0.15" not in page
    assert "90–100%" in page  # the churn band filter by its range, not "9"


def test_churn_band_filter_narrows(superuser_client, published):  # noqa: F811
    run, _mine, _theirs = published
    response = superuser_client.get(reverse("admin:profiles_customerprofile_changelist") + "?churn_bucket=1")
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown and all(profile.churn_bucket == 1 for profile in shown)


def test_run_label_is_in_the_server_time_zone(settings, published):  # noqa: F811
    import datetime

    from django.utils import timezone

    run, _mine, _theirs = published
    run.as_of = datetime.datetime(2026, 3, 1, 20, 0, tzinfo=datetime.UTC)
    with timezone.override("Asia/Shanghai"):
        assert str(run).startswith("2026-03-02 04:00")
