"""Helpers shared by every app's tests: service availability, a real Celery worker process, and the
exact per-page query-count baselines (``assert_query_count``)."""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from celery.signals import task_prerun
from django.conf import settings

from crm_site.settings.database import MONGODB_ENGINE

BASE_DIR = Path(settings.BASE_DIR)
T = TypeVar("T")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def services_required() -> bool:
    """CI sets REQUIRE_SERVICES so that a missing service fails the run instead of skipping."""
    return os.environ.get("REQUIRE_SERVICES", "") not in ("", "0", "false")


def port_open(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, available: bool) -> None:
    """Skip (or fail, under REQUIRE_SERVICES) when a service the test needs is absent."""
    if available:
        return
    message = f"{name} is not available"
    if services_required():
        pytest.fail(f"{message} and REQUIRE_SERVICES is set")
    pytest.skip(message)


def test_database_url() -> str:
    """A DATABASE_URL that points a child process at the database this test run uses."""
    db = settings.DATABASES["default"]
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    if engine == MONGODB_ENGINE:
        parts = urlsplit(db["HOST"])
        return f"{parts.scheme}://{parts.netloc}/{db['NAME']}?{parts.query}".rstrip("?")
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def personal_data_keys_env() -> dict[str, str]:
    """Environment for a production-settings subprocess: the field-encryption and blind-index keys this
    test process uses, so ``check --deploy`` is satisfied and the server reads what the tests wrote."""
    from crm_site.crypto import blind_index_key, ring_keys
    from crm_site.fields import KEYS_PURPOSE, KEYS_SETTING

    return {
        "CRM_FIELD_ENCRYPTION_KEYS": ",".join(ring_keys(KEYS_SETTING, purpose=KEYS_PURPOSE)),
        "CRM_BLIND_INDEX_KEY": blind_index_key().decode(),
    }


def create_user(username: str, *role_names: str, **fields: Any) -> Any:
    """A user with the given role groups (``create_user("bob", "Sales")``), password ``pw-<username>``;
    staff when a manager. The role groups must exist (``crm_site.roles.sync_roles``)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    is_manager = "Manager" in role_names
    user = get_user_model().objects.create_user(
        username=username,
        password="pw-" + username,
        is_staff=fields.pop("is_staff", is_manager),
        **fields,
    )
    user.groups.set(Group.objects.filter(name__in=role_names))
    return user


def _forget_connections(app) -> None:
    """Drop the app's cached broker pools and result backend so changed settings take effect."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


def _delay_configured_tasks(sender: Any = None, **kwargs: Any) -> None:
    """In a test's worker process: sleep before each task named in settings.TEST_TASK_DELAYS (seconds),
    to give the test time to kill the worker in the middle of a job."""
    delay = (getattr(settings, "TEST_TASK_DELAYS", None) or {}).get(getattr(sender, "name", ""))
    if delay:
        time.sleep(float(delay))


task_prerun.connect(_delay_configured_tasks, weak=False, dispatch_uid="crm_site.testing.task_delays")


@contextmanager
def celery_worker_process(
    *,
    concurrency: int = 1,
    extra_env: dict[str, str] | None = None,
    worker_settings: dict[str, Any] | None = None,
    task_delays: dict[str, float] | None = None,
) -> Iterator[dict]:
    """Start ``celery worker`` as a child process on a private queue of the real Redis broker.

    Yields a dict with the queue name and the process; while it is open, tasks sent from this process
    go to that queue (not run in-process), and so do the tasks the worker sends (its default queue is
    the private one). The worker uses the test database and crm_site.settings.test, with
    ``worker_settings`` (JSON values) on top; ``task_delays`` ({task name: seconds}) makes it sleep before
    those tasks.
    """
    from crm_site.celery import app

    need_service("Redis", port_open(TEST_REDIS_URL))
    queue = f"crm-test-{uuid.uuid4().hex[:10]}"
    overrides: dict[str, Any] = {"CELERY_TASK_DEFAULT_QUEUE": queue, **(worker_settings or {})}
    if task_delays:
        overrides |= {"CELERY_IMPORTS": ["crm_site.testing"], "TEST_TASK_DELAYS": task_delays}
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "CRM_CELERY_WORKER": "1",
        "CRM_TEST_SETTINGS": json.dumps(overrides),
        **(extra_env or {}),
    }
    log_path = BASE_DIR / f".worker-{queue}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm_site",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--pool",
            "prefork" if concurrency > 1 else "solo",
            "--concurrency",
            str(concurrency),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {
        key: app.conf[key]
        for key in ("task_always_eager", "broker_url", "result_backend", "task_default_queue")
    }
    app.conf.update(
        task_always_eager=False,
        broker_url=TEST_REDIS_URL,
        result_backend=TEST_REDIS_URL,
        task_default_queue=queue,
    )
    _forget_connections(app)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{log_path.read_text(errors='replace')[-4000:]}")
            if b"ready." in log_path.read_bytes():
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"worker not ready in 60s:\n{log_path.read_text(errors='replace')[-4000:]}")
        yield {"queue": queue, "process": process, "log_path": log_path}
    finally:
        app.conf.update(saved)
        _forget_connections(app)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        log_path.unlink(missing_ok=True)


# --- Query-count baselines ------------------------------------------------------------------------------
#
# Every page's exact number of database queries is kept in one file per app, ``<app>/tests/query_counts.json``
# (NetBox's ``tests/query_counts.json`` is the model). A file has one section per kind of backend: ``sql``
# (SQLite and PostgreSQL, which share their counts) and ``mongodb``, which holds only the pages whose count
# differs there (any other page falls back to ``sql``). The key is the page's URL name (``customers:index``,
# ``dashboard``), optionally followed by a space and what is measured (``customers:index one page``); the
# file is that of the namespace's app (``crm_site`` for names without one). A page without a key fails.
# ``pytest --update-query-counts`` (conftest.py) writes the counts observed instead of checking them.

QUERY_COUNTS_FILENAME = "query_counts.json"
_update_query_counts = False
_query_count_lock = threading.Lock()


def set_query_count_update_mode(enabled: bool) -> None:
    """Called by the root conftest.py for ``--update-query-counts`` (tests only, never production code)."""
    global _update_query_counts
    _update_query_counts = enabled


def query_counts_path(name: str) -> Path:
    """The baseline file of a key: its URL namespace's app (``profiles_api`` belongs to ``profiles``)."""
    url_name = name.split(" ", 1)[0]
    namespace = url_name.split(":", 1)[0] if ":" in url_name else "crm_site"
    app_dir = next(
        (
            BASE_DIR / label
            for label in (namespace, namespace.split("_", 1)[0])
            if (BASE_DIR / label).is_dir()
        ),
        BASE_DIR / "crm_site",
    )
    return app_dir / "tests" / QUERY_COUNTS_FILENAME


def query_counts_section() -> str:
    """``mongodb`` on the MongoDB backend, ``sql`` on SQLite and PostgreSQL (their counts are the same)."""
    from django.db import connection

    return "mongodb" if connection.vendor == "mongodb" else "sql"


def load_query_counts(path: Path) -> dict[str, dict[str, int]]:
    return json.loads(path.read_text()) if path.exists() else {}


def query_count_baseline(name: str) -> int | None:
    """The reviewed count of ``name`` on this backend, or None when the file has no entry for it."""
    counts = load_query_counts(query_counts_path(name))
    section = query_counts_section()
    if name in counts.get(section, {}):
        return counts[section][name]
    return counts.get("sql", {}).get(name)


def _record_query_count(name: str, count: int) -> None:
    """Write ``count`` into the key's file (MongoDB: only where it differs from the SQL count)."""
    path = query_counts_path(name)
    section = query_counts_section()
    with _query_count_lock, path.open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        handle.seek(0)
        content = handle.read()
        counts = json.loads(content) if content.strip() else {}
        if section == "mongodb" and counts.get("sql", {}).get(name) == count:
            counts.get("mongodb", {}).pop(name, None)
        else:
            counts.setdefault(section, {})[name] = count
        order = {"sql": 0, "mongodb": 1}
        counts = {
            key: dict(sorted(value.items()))
            for key, value in sorted(counts.items(), key=lambda item: (order.get(item[0], 2), item[0]))
            if value
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(counts, indent=2, ensure_ascii=False) + "\n")


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b[0-9a-f]{32}\b|\b\d+(?:\.\d+)?\b")


def _shape(sql: str) -> str:
    """A query with its literal values blanked, so the same query at two data sizes compares equal."""
    return _LITERALS.sub("?", sql)[:300]


def _query_diff(first: list[str], other: list[str], *, labels: tuple[str, str]) -> str:
    return "\n".join(
        difflib.unified_diff(
            [_shape(q) for q in first], [_shape(q) for q in other], *labels, lineterm="", n=1
        )
    )


@contextmanager
def captured_queries() -> Iterator[list[str]]:
    """The SQL (or MongoDB commands) run inside the block, in order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries: list[str] = []
    with CaptureQueriesContext(connection) as context:
        yield queries
    queries.extend(str(query["sql"]) for query in context.captured_queries)


def assert_query_count(
    name: str,
    request: Callable[[], T],
    *,
    grow: Callable[[int], object] | None = None,
    sizes: Sequence[int] = (3, 30),
    warm_up: bool = True,
) -> list[T]:
    """Run ``request`` at each data size and check its query count is exactly the baseline of ``name``.

    ``grow(k)`` adds ``k`` rows of what the page shows: before each measurement it is called with the
    difference to the next size (``sizes=(3, 30)``: ``grow(3)``, measure, ``grow(27)``, measure; without
    ``grow`` the request is measured once). ``warm_up`` runs the request once unmeasured before each
    measurement, to fill the caches (content types, permissions, template fragments). Returns the
    results of the measured requests, one per size, for the caller's own checks. A count that differs
    between the sizes fails with a diff of the queries; one that differs from the baseline (or has
    none) fails naming the file and listing them.
    """
    return assert_query_counts({name: request}, grow=grow, sizes=sizes, warm_up=warm_up)[name]


def assert_query_counts(
    requests: dict[str, Callable[[], T]],
    *,
    grow: Callable[[int], object] | None = None,
    sizes: Sequence[int] = (3, 30),
    warm_up: bool = True,
) -> dict[str, list[T]]:
    """``assert_query_count`` for several pages measured on the same data (each name its own baseline)."""
    measured: dict[str, list[tuple[int, list[str]]]] = {name: [] for name in requests}
    results: dict[str, list[T]] = {name: [] for name in requests}
    done = 0
    for size in sizes if grow is not None else (0,):
        if grow is not None:
            grow(size - done)
            done = size
        for name, request in requests.items():
            if warm_up:
                # Right before the measured request, so that a cache with a lifetime (the 60 s template
                # fragments) is as warm on a slow backend as on a fast one.
                request()
            with captured_queries() as queries:
                results[name].append(request())
            measured[name].append((size, queries))
    failures = [_query_count_failure(name, runs) for name, runs in measured.items()]
    if any(failures):
        pytest.fail("\n\n".join(failure for failure in failures if failure))
    return results


def _query_count_failure(name: str, measured: list[tuple[int, list[str]]]) -> str:
    """Why ``name``'s measurements do not match its baseline ("" when they do; records in update mode)."""
    counts = {size: len(queries) for size, queries in measured}
    path = query_counts_path(name)
    where = f"{path.relative_to(BASE_DIR)} [{query_counts_section()}]"
    sizes_text = ", ".join(f"{count} at size {size}" for size, count in counts.items())
    grows = [
        _query_diff(measured[0][1], queries, labels=(f"size {measured[0][0]}", f"size {size}"))
        for size, queries in measured[1:]
        if len(queries) != len(measured[0][1])
    ]
    if grows:
        return f"{name}: the query count grows with the data ({sizes_text}); it must not.\n" + "\n".join(
            grows
        )
    observed = len(measured[0][1])
    if _update_query_counts:
        _record_query_count(name, observed)
        return ""
    expected = query_count_baseline(name)
    listing = "\n".join(f"  {i}. {_shape(q)}" for i, q in enumerate(measured[0][1], 1))
    if expected is None:
        return (
            f"{name}: no query-count baseline in {where}; observed {observed} ({sizes_text}). "
            f"Review the queries and add it (pytest --update-query-counts records it).\n{listing}"
        )
    if observed != expected:
        return (
            f"{name}: {observed} queries, baseline {expected} in {where} ({sizes_text}). If the change is "
            f"intended, update the file (pytest --update-query-counts) and say why in the commit.\n"
            f"Observed queries:\n{listing}"
        )
    return ""


# --- The test database on MongoDB: flush only what a test wrote; data shared by a module's tests ----------
#
# MongoDB has no transactions to roll a test back, so every test there ends in a flush. Emptying every
# collection costs two round trips each (about 60 collections) on the MongoDB-wire emulator, seconds a
# test. A command listener (registered by conftest.py before the first client exists) records the
# collections this process writes to, and the flush empties only those. A test whose writes may come from
# another process (a Celery worker, ``manage.py run_demo``: the tests using ``transactional_db``) and any
# command the listener does not know empty everything, as before.

# Tables whose rows migrate creates once and every test relies on; the MongoDB flush keeps them.
STATIC_TABLES = frozenset({"django_content_type", "auth_permission", "auth_group", "auth_group_permissions"})
# Commands that change no document (everything else, unless it is a known write, empties every collection).
_MONGO_READ_COMMANDS = frozenset(
    {
        "find",
        "getMore",
        "killCursors",
        "count",
        "distinct",
        "listCollections",
        "listIndexes",
        "listDatabases",
        "ping",
        "hello",
        "isMaster",
        "ismaster",
        "buildInfo",
        "endSessions",
        "commitTransaction",
        "abortTransaction",
        "dbStats",
        "collStats",
        "explain",
        "serverStatus",
        "connectionStatus",
        "getParameter",
    }
)
_MONGO_WRITE_COMMANDS = frozenset({"insert", "update", "delete", "findAndModify"})


class MongoWrites:
    """The collections this process wrote to since ``reset`` (a pymongo ``CommandListener``)."""

    def __init__(self) -> None:
        self.collections: set[str] = set()
        self.unknown = False  # a command that may have written anywhere
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.collections = set()
            self.unknown = False

    def started(self, event: Any) -> None:
        name = event.command_name
        with self._lock:
            if name in _MONGO_WRITE_COMMANDS:
                self.collections.add(str(event.command[name]))
            elif name == "aggregate":
                stages = event.command.get("pipeline") or []
                if any("$out" in stage or "$merge" in stage for stage in stages):
                    self.unknown = True
            elif name not in _MONGO_READ_COMMANDS:
                self.unknown = True

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


MONGO_WRITES = MongoWrites()


def register_mongo_listener() -> None:
    """Record this process's MongoDB writes (before the first client is made: pymongo reads it then)."""
    from pymongo import monitoring

    class Listener(monitoring.CommandListener):
        def started(self, event: monitoring.CommandStartedEvent) -> None:
            MONGO_WRITES.started(event)

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    monitoring.register(Listener())


class _SharedDocuments:
    """Documents that a module's tests share (``shared_test_data``), restored after each of them."""

    documents: dict[str, list[dict[str, Any]]] | None = None


def mongo_flush(*, everything: bool, alias: str = "default") -> None:
    """Empty what the tests wrote (``everything``: every collection) and put back the shared documents.

    Content types, permissions and groups stay (made once by the test database's migrate); of the groups,
    only the role groups: otherwise the next test that creates a team of the same name fails on the
    unique name.
    """
    from django.contrib.auth.models import Group
    from django.db import connections

    from crm_site.roles import ROLE_PERMISSIONS

    connection = connections[alias]
    existing = connection.introspection.django_table_names(only_existing=True, include_views=False)
    written = MONGO_WRITES.collections
    everything = everything or MONGO_WRITES.unknown
    database = connection.database  # type: ignore[attr-defined]
    shared = _SharedDocuments.documents or {}
    for name in existing:
        if name in STATIC_TABLES or not (everything or name in written):
            continue
        database[name].delete_many({})
        if shared.get(name):
            database[name].insert_many(shared[name])
    if everything or "auth_group" in written:
        Group.objects.using(alias).exclude(name__in=list(ROLE_PERMISSIONS)).delete()
    MONGO_WRITES.reset()


@contextmanager
def shared_test_data(django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """Build data once for a module's tests that each start from it (Django's ``setUpTestData``).

    For a module-scoped fixture: ``with shared_test_data(django_db_blocker, build) as data: yield data``.
    On SQLite and PostgreSQL the data is made inside a transaction that stays open while the tests run
    (each test's own transaction is a savepoint in it) and is rolled back at the end. On MongoDB (no
    transactions) the data is written for real; after each test the collections it wrote to are emptied
    and refilled with the shared documents, and at the end every collection is emptied.
    """
    from django.db import connection, transaction

    if connection.vendor != "mongodb":
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                data = build()
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                raise
        try:
            yield data
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
        return

    with django_db_blocker.unblock():
        MONGO_WRITES.reset()
        try:
            data = build()
            if MONGO_WRITES.unknown:
                raise RuntimeError("shared_test_data: the build ran a command that is not a known write")
            database = connection.database  # type: ignore[attr-defined]
            if MONGO_WRITES.collections & STATIC_TABLES:
                raise RuntimeError("shared_test_data: the build wrote content types, permissions or groups")
            _SharedDocuments.documents = {
                name: list(database[name].find())
                for name in MONGO_WRITES.collections
                if name not in STATIC_TABLES
            }
            MONGO_WRITES.reset()
        except BaseException:
            mongo_flush(everything=True)
            raise
    try:
        yield data
    finally:
        _SharedDocuments.documents = None
        with django_db_blocker.unblock():
            mongo_flush(everything=True)


# --- Browser tests: logging in and axe-core (WCAG 2.x A/AA) -------------------------------------------------

AXE = BASE_DIR / "static" / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = frozenset({"critical", "serious"})


def force_login_passes_second_factor() -> None:
    """Make the test client's ``force_login`` a complete login, second factor included.

    ``force_login`` skips the login form; a manager's session would still owe its second factor and
    every page would redirect to the verification. The tests of the second factor itself log in
    through the form (``client.post("/accounts/login/", ...)``) and so still owe it.
    """
    from django.test import Client

    from crm_site.security.two_factor import STATE_KEY, VERIFIED

    if getattr(Client.force_login, "_passes_second_factor", False):
        return
    original = Client.force_login

    def force_login(self: Any, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        session = self.session
        session[STATE_KEY] = VERIFIED
        session.save()

    force_login._passes_second_factor = True  # type: ignore[attr-defined]
    Client.force_login = force_login  # type: ignore[method-assign]


def enrol_second_factor(user: Any) -> tuple[str, list[str]]:
    """Give ``user`` an authenticator as the setup page does; returns its key and recovery codes."""
    import pyotp

    from crm_site.security.two_factor import device_confirm

    secret = pyotp.random_base32()
    _device, codes = device_confirm(user=user, secret=secret, code=pyotp.TOTP(secret).now())
    return secret, codes


def totp_code_for(username: str) -> str:
    """The code a user's authenticator would show next, one never used before (each step once)."""
    import pyotp
    from django.contrib.auth import get_user_model

    from crm_site.security.models import TwoFactorDevice
    from crm_site.security.two_factor import STEP_SECONDS, device_secret

    device = TwoFactorDevice.objects.get(user=get_user_model().objects.get(username=username))
    step = max(int(time.time()) // STEP_SECONDS, (device.last_step or 0) + 1)
    while step > int(time.time()) // STEP_SECONDS + 1:  # the next step is the furthest accepted
        time.sleep(1)
    return pyotp.TOTP(device_secret(device)).generate_otp(step)


def browser_second_factor(page: Any, username: str) -> None:
    """On the second-factor page after the password: enrol (the key read from the page) or verify."""
    import pyotp

    if "/accounts/two-factor/setup/" in page.url:
        key = page.inner_text("[data-totp-key]").replace(" ", "")
        page.fill("input[name=code]", pyotp.TOTP(key).now())
        page.click("main form button[type=submit]")
        page.wait_for_url("**/accounts/two-factor/recovery-codes/**")
        page.click("main a.btn-primary")
    elif "/accounts/two-factor/" in page.url:
        page.fill("input[name=code]", totp_code_for(username))
        page.click("main form button[type=submit]")


def browser_login(page: Any, base_url: str, username: str, language: str = "en") -> None:
    """Log ``username`` (password ``pw-<username>``, as ``create_user`` sets) in, in ``language``,
    passing the second factor when the user needs one (enrolling on first use)."""
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    browser_second_factor(page, username)
    page.wait_for_url(f"{base_url}/")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG A/AA violations on the page's current document that are critical or serious."""
    # By URL from our static files: the Content-Security-Policy refuses an inline copy (script-src 'self').
    from django.templatetags.static import static

    page.add_script_tag(url=static("vendor/axe-core/axe.min.js"))
    result = page.evaluate("tags => axe.run(document, {runOnly: tags})", WCAG_TAGS)
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """axe violations as readable lines: rule, impact, help, and the first few nodes' failure summaries."""
    lines = []
    for violation in violations:
        count = len(violation["nodes"])
        lines.append(f"  {violation['id']} ({violation['impact']}, {count} nodes): {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)
