"""Project-wide pytest fixtures."""

import os

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-query-counts",
        action="store_true",
        help="write the observed page query counts into <app>/tests/query_counts.json, not check them",
    )


def pytest_configure(config):
    from django.conf import settings

    if config.getoption("--update-query-counts", default=False):
        from crm_site.testing import set_query_count_update_mode

        set_query_count_update_mode(True)
    from crm_site.testing import force_login_passes_second_factor

    force_login_passes_second_factor()
    if settings.IS_MONGODB:
        # Before the first MongoDB client exists: the per-test flush empties what the test wrote.
        from crm_site.testing import register_mongo_listener

        register_mongo_listener()


def pytest_collection_modifyitems(config, items):
    """On MongoDB, a test marked ``nomongo(reason=...)`` is skipped with that reason.

    The mark is only for what the backend (or its test server) cannot do; the reason is required, so a
    skip always says why.
    """
    from django.conf import settings

    if not settings.IS_MONGODB:
        return
    for item in items:
        marker = item.get_closest_marker("nomongo")
        if marker is None:
            continue
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
        if not reason:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.nomongo needs a reason")
        item.add_marker(pytest.mark.skip(reason=f"not on MongoDB: {reason}"))


@pytest.fixture(autouse=True)
def _login_lockout_forgotten():
    """Every test starts with no login failures counted (settings.test: the lockout's own cache)."""
    yield
    from django.core.cache import caches

    caches["lockout"].clear()


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker process on the real Redis broker, using the test database."""
    from crm_site.testing import celery_worker_process

    with celery_worker_process() as worker:
        yield worker


@pytest.fixture
def roles(db):
    """The role groups with their permissions (as migrate creates them)."""
    from crm_site.roles import sync_roles

    sync_roles()


@pytest.fixture
def make_user(db, roles):
    """Create a staff user with the given roles: make_user("bob", "Sales")."""
    from crm_site.testing import create_user

    return create_user


@pytest.fixture
def sales_user(make_user):
    return make_user("sales_a", "Sales")


@pytest.fixture
def other_sales_user(make_user):
    return make_user("sales_b", "Sales")


@pytest.fixture
def manager_user(make_user):
    return make_user("boss", "Manager")


@pytest.fixture
def browser():
    """A real headless Chromium (Debian's) driven by Playwright."""
    from crm_site.testing import need_service

    need_service("Chromium", os.path.exists("/usr/bin/chromium"))
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session", autouse=True)
def _fast_mongodb_teardown(django_db_setup, django_db_blocker):
    """On MongoDB every test ends in a flush (no transactions to roll back): of what it wrote.

    Django's flush empties every collection and re-creates content types and permissions through
    post_migrate, which costs seconds a test on a MongoDB-wire emulator. Here the flush empties only the
    collections the test wrote to (``crm_site.testing.mongo_flush``; every collection after a test using
    ``transactional_db``, whose writes may come from a worker process) and leaves content types,
    permissions and the role groups (made once by the test database's migrate) in place.
    """
    from django.db import connection
    from django.test import TestCase, TransactionTestCase

    from crm_site.testing import MONGO_WRITES, mongo_flush

    if connection.vendor != "mongodb":
        yield
        return

    def flush_what_the_test_wrote(self):
        for alias in self._databases_names(include_mirrors=False):
            mongo_flush(everything=not isinstance(self, TestCase), alias=alias)

    MONGO_WRITES.reset()
    original = TransactionTestCase._fixture_teardown
    TransactionTestCase._fixture_teardown = flush_what_the_test_wrote
    try:
        yield
    finally:
        TransactionTestCase._fixture_teardown = original
