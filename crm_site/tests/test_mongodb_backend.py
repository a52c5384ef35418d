"""The project's MongoDB engine (crm_site.mongodb_backend) behaves as the SQL backends do."""

import pytest
from django.db import transaction

from crm_site.db import atomic, on_commit

pytestmark = pytest.mark.django_db


def test_a_transaction_inside_djangos_atomic_block_runs_its_commit_hooks(django_capture_on_commit_callbacks):
    """The admin wraps its views in Django's atomic; a service's transaction inside it still commits."""
    ran = []
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            with atomic():
                on_commit(lambda: ran.append("committed"))

    assert ran == ["committed"]
