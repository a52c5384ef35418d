"""`make run`'s launcher (manage.py run_demo) for real: runserver, a Celery worker and beat on the embedded
filesystem broker over the test database; "Rebuild now" is done by the worker, beat's schedule reaches it,
and stopping the launcher (Ctrl-C, or killing it outright) leaves no process behind.

Not on MongoDB: the MongoDB-wire emulator is too slow for three more processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest

from crm_site import testing
from crm_site.testing import BASE_DIR, port_open

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("transactional_db")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@contextmanager
def launcher(tmp_path: Path) -> Iterator[dict]:
    """``manage.py run_demo`` as `make run` starts it (no CELERY_BROKER_URL), on the test database."""
    port = free_port()
    log_path = tmp_path / "run_demo.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.test",
        "DATABASE_URL": testing.test_database_url(),
        "CRM_CELERY_WORKER": "1",  # the test settings' switch from in-process tasks to a broker
        "CELERY_EMBEDDED_DIR": str(tmp_path / "celery"),
        "CRM_TEST_SETTINGS": json.dumps(
            {
                "MEDIA_ROOT": str(tmp_path / "media"),
                "PROFILES_PIPELINE_PARAMS": {"k_range": [2, 3], "cluster_sample_size": 1000},
            }
        ),
    }
    log = open(log_path, "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", f"127.0.0.1:{port}", "--grace", "20"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    info = {"process": process, "port": port, "log": lambda: log_path.read_text(errors="replace")}
    try:
        deadline = time.monotonic() + 90
        while not (
            port_open(f"http://127.0.0.1:{port}")
            and "ready." in info["log"]()
            and "beat: Starting" in info["log"]()
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"run_demo did not start:\n{info['log']()[-4000:]}")
            time.sleep(0.3)
        yield info
    except BaseException:
        print(info["log"]()[-6000:])  # shown with the failure
        raise
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


class Session:
    """A browser's cookie jar over plain HTTP; redirects are not followed (the tests read them)."""

    class NoRedirect(HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.jar), self.NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, dict, str]:
        body = urlencode(data).encode() if data is not None else None
        try:
            response = self.opener.open(Request(self.base + path, data=body), timeout=30)
        except HTTPError as error:  # carries the 3xx/4xx response
            response = error
        return response.status, dict(response.headers), response.read().decode(errors="replace")

    def csrf(self, path: str) -> str:
        _status, _headers, page = self.request(path)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    def log_in(self, username: str, password: str) -> None:
        token = self.csrf("/accounts/login/")
        status, headers, _ = self.request(
            "/accounts/login/", {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        assert status == 302, (status, headers)
        if headers["Location"].startswith("/accounts/two-factor/"):
            # A manager's second factor: the code their authenticator shows.
            code = testing.totp_code_for(username)
            token = self.csrf(headers["Location"])
            status, headers, _ = self.request(
                "/accounts/two-factor/", {"csrfmiddlewaretoken": token, "code": code}
            )
            assert status == 302, (status, headers)


def test_make_run_launcher_rebuilds_in_the_worker_runs_beat_and_stops_everything_on_ctrl_c(
    tmp_path, manager_user, sales_user
):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from profiles.models import ProfileRun
    from profiles.tests.factories import seed_history

    seed_history([sales_user], customers=20)
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="ping from beat", task="crm_site.ping", interval=every_second, args=json.dumps(["from-beat"])
    )
    with launcher(tmp_path) as demo:
        pids = descendants(demo["process"].pid)
        # runserver, its auto-reloaded server, the worker and beat (each a python process).
        assert len(pids) >= 4, pids
        browser = Session(demo["port"])
        testing.enrol_second_factor(manager_user)
        browser.log_in(manager_user.username, "pw-" + manager_user.username)
        token = browser.csrf("/profiles/")

        started = time.monotonic()
        status, headers, _ = browser.request("/profiles/runs/new/", {"csrfmiddlewaretoken": token})
        answered_in = time.monotonic() - started
        assert status == 302 and "/profiles/runs/" in headers["Location"], (status, headers)
        run = ProfileRun.objects.get()
        progress_path = f"/profiles/runs/{run.pk}/progress.json"
        deadline = time.monotonic() + 180
        while True:
            status, _headers, body = browser.request(progress_path)
            assert status == 200, body[:500]
            progress = json.loads(body)
            if progress["finished"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert progress["status"] == "succeeded", (progress, demo["log"]()[-4000:])
        assert answered_in < 10
        # The rebuild's steps ran in the worker (in-process tasks would leave no worker log lines) ...
        assert re.search(r"\[worker\] .*Task profiles\.compute\[[^\]]+\] succeeded", demo["log"]())
        # ... and beat's schedule (DatabaseScheduler on SQLite) reached the worker too.
        deadline = time.monotonic() + 30
        while "'echo': 'from-beat'" not in demo["log"]() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert re.search(r"\[worker\] .*Task crm_site\.ping\[[^\]]+\] succeeded.*from-beat", demo["log"]())
        assert any((tmp_path / "celery" / "results").iterdir()), "results go to the file result backend"

        demo["process"].send_signal(signal.SIGINT)  # Ctrl-C
        assert demo["process"].wait(timeout=60) == 0, demo["log"]()[-3000:]
    assert "run_demo: stopped." in demo["log"]()
    assert not [pid for pid in pids if alive(pid)], "no process of the launcher is left"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_killing_the_launcher_outright_still_stops_web_worker_and_beat(tmp_path):
    with launcher(tmp_path) as demo:
        pids = descendants(demo["process"].pid)
        assert len(pids) >= 4, pids
        demo["process"].kill()
        demo["process"].wait()
        deadline = time.monotonic() + 40
        while [pid for pid in pids if alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.3)
        assert not [pid for pid in pids if alive(pid)], "no process of the launcher is left"
