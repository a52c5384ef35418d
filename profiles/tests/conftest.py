"""Fixtures of the profiles app."""

import pytest

from customers.tests.factories import CustomerFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Staged chunks and fitted models go to a private folder per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT


@pytest.fixture
def own_customer(sales_user):
    return CustomerFactory(name="王芳 Wang Fang", owner=sales_user, external_id="P-OWN")


@pytest.fixture
def others_customer(other_sales_user):
    return CustomerFactory(name="Li Na 李娜", owner=other_sales_user, external_id="P-OTHER")


@pytest.fixture
def history(sales_user, other_sales_user):
    from profiles.tests.factories import seed_history

    return seed_history([sales_user, other_sales_user], customers=30)


@pytest.fixture
def api_client(client, manager_user):
    from crm_site.api import api_token_create

    _token, key = api_token_create(name="shop", user=manager_user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture(autouse=True)
def small_pipeline(settings):
    """Fewer k-means candidates: the test data has a few dozen customers, not millions."""
    settings.PROFILES_PIPELINE_PARAMS = {"k_range": (2, 3), "cluster_sample_size": 1000}


@pytest.fixture
def old_run(history):
    """An earlier complete, active run with a minimal profile for every customer."""
    from django.utils import timezone

    from profiles.models import CustomerProfile
    from profiles.tests.factories import ProfileRunFactory

    run = ProfileRunFactory(is_active=True, finished_at=timezone.now(), chunks_total=1, chunks_done=1)
    CustomerProfile.objects.bulk_create(
        CustomerProfile(run=run, customer=customer, rfm_segment="loyal", computed_at=run.as_of)
        for customer in history
    )
    return run
