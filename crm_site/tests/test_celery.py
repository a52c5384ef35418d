"""Tasks run in-process without a broker, and a real worker process runs them through Redis."""

import os

import pytest

from crm_site.tasks import ping_task


def test_without_a_broker_a_task_runs_in_process():
    result = ping_task.delay("hello")
    assert result.get(timeout=1) == {"echo": "hello", "pid": os.getpid()}


@pytest.mark.worker
def test_a_real_worker_process_executes_a_task_sent_through_redis(celery_worker):
    result = ping_task.delay("from the test process")
    payload = result.get(timeout=60)
    assert payload["echo"] == "from the test process"
    assert payload["pid"] == celery_worker["process"].pid != os.getpid()
