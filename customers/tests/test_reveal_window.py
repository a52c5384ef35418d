"""Issue 13 review: the reveal budget is a sliding hour, and concurrent takes never exceed it."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from customers.services.pii import WINDOW_SECONDS, pii_budget_take

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing_user(make_user):
    return make_user("mkt", "Marketing")


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1_800_000_000 // WINDOW_SECONDS * WINDOW_SECONDS + WINDOW_SECONDS - 60.0}
    monkeypatch.setattr(time, "time", lambda: now["t"])
    cache.clear()
    return now


@override_settings(CRM_PII_REVEALS_PER_HOUR=30)
def test_the_hour_boundary_does_not_double_the_budget(clock, marketing_user):
    assert all(pii_budget_take(marketing_user) for _n in range(30))  # the hour's last minute
    assert not pii_budget_take(marketing_user)
    clock["t"] += 120  # one minute into the next clock hour: the 30 are still in the last hour
    assert not pii_budget_take(marketing_user)
    clock["t"] += WINDOW_SECONDS / 2 - 60  # half of the previous window still counts: about 15 free
    granted = sum(pii_budget_take(marketing_user) for _n in range(30))
    assert granted == 15
    clock["t"] += WINDOW_SECONDS  # the old window is gone; the 15 now weigh half
    assert sum(pii_budget_take(marketing_user) for _n in range(30)) == 22


@override_settings(CRM_PII_REVEALS_PER_HOUR=30)
def test_refused_attempts_do_not_use_the_budget_and_concurrent_takes_stop_at_the_limit(clock, marketing_user):
    results: list[bool] = []
    lock = threading.Lock()

    def take() -> None:
        for _n in range(10):
            granted = pii_budget_take(marketing_user)
            with lock:
                results.append(granted)

    threads = [threading.Thread(target=take) for _n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 30 and len(results) == 60
