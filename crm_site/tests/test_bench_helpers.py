"""The benchmarks' own plumbing (bench/): their docs section, their Redis database, their memory figure."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from bench import _broker as broker
from bench._memory import TreeMemory, tree_pids
from bench._sections import section_read, section_write
from crm_site.testing import need_service, port_open

# Not the tests' (14) nor the README's (0) nor the bench's default (11) database.
SCRATCH_REDIS = "redis://127.0.0.1:6379/12"


def test_a_rerun_rewrites_its_section_in_place_and_keeps_the_rest(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nintro\n\n<!-- orders-bench -->\norders\n<!-- orders-bench -->-end\n")
    section_write("profiles", "## Profiles\nfirst run", page)
    section_write("profiles", "## Profiles\nsecond run", page)
    text = page.read_text()
    assert text.count("<!-- profiles-bench -->\n") == 1 and text.count("<!-- profiles-bench -->-end") == 1
    assert section_read("profiles", page) == "## Profiles\nsecond run"
    assert "first run" not in text and "intro" in text and "orders\n" in text
    page.write_text(text + "\nnotes written by hand\n")
    section_write("orders", "orders again", page)
    assert page.read_text().endswith("second run\n\n<!-- profiles-bench -->-end\n\nnotes written by hand\n")
    assert section_read("orders", page) == "orders again"


@pytest.fixture
def scratch_redis(monkeypatch):
    import redis

    need_service("Redis", port_open(SCRATCH_REDIS))
    client = redis.Redis.from_url(SCRATCH_REDIS)
    if client.dbsize():
        pytest.skip(f"{SCRATCH_REDIS} is in use: the test touches only an empty database")
    monkeypatch.setattr(broker, "BROKER_URL", SCRATCH_REDIS)
    yield client
    client.delete(broker.OWNER_KEY, "someone-elses-key", "celery", "crm:1:progress")


def test_the_bench_refuses_a_redis_database_holding_someone_elses_keys(scratch_redis):
    scratch_redis.set("someone-elses-key", "keep me")
    with pytest.raises(broker.BrokerTaken, match="someone-elses-key"):
        broker.claim()
    assert scratch_redis.get("someone-elses-key") == b"keep me"
    assert not scratch_redis.exists(broker.OWNER_KEY)


def test_the_bench_deletes_only_its_own_keys_never_the_whole_database(scratch_redis):
    token = broker.claim()
    assert broker.owned(token)
    scratch_redis.rpush("celery", "a queued task")
    scratch_redis.set("crm:1:progress", "50")
    scratch_redis.set("someone-elses-key", "written during the run")
    assert broker.release() == ["someone-elses-key"]
    assert scratch_redis.get("someone-elses-key") == b"written during the run"
    assert not scratch_redis.exists("celery", "crm:1:progress", broker.OWNER_KEY)
    with pytest.raises(broker.BrokerTaken):  # the next run sees the foreign key and refuses
        broker.claim()


def test_peak_memory_counts_the_children_of_the_process_too():
    # A parent with two children holding 60 MB each: no single process reaches the total.
    script = textwrap.dedent(
        """
        import subprocess, sys, time
        held = "import time; b = b'x' * (60 * 2**20); time.sleep(30)"
        children = [subprocess.Popen([sys.executable, "-c", held]) for _ in range(2)]
        time.sleep(30)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        memory = TreeMemory(parent.pid, interval=0.1)
        memory.start()
        time.sleep(3)
        peak = memory.stop()
    finally:
        for pid in reversed(tree_pids(parent.pid)):
            os.kill(pid, signal.SIGKILL)
        parent.wait()
    assert peak["processes"] == 3
    assert peak["peak_rss_mb"] > 120 and peak["peak_pss_mb"] > 120
