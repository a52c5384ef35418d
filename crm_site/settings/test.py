"""Test settings: fast hashing, a file SQLite test database that a worker process can open."""

import json
import os

from crm_site.settings.base import *  # noqa: F403
from crm_site.settings.base import BASE_DIR, CACHES, DATABASES, DB_BACKEND, env

SECRET_KEY = "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DB_BACKEND == "sqlite":
    # A file, not :memory:, so a Celery worker process started by a test sees the same data.
    # One file per test process, so parallel runs in one checkout do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}

# Tests run tasks in-process unless the process is the worker that an integration test started.
CELERY_TASK_ALWAYS_EAGER = not env.bool("CRM_CELERY_WORKER", default=False)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Login lockout counters in a cache of their own, emptied after every test (conftest.py), so failures in
# one test do not lock 127.0.0.1 out of the next (crm_site/security/tests run them on Redis too).
CACHES = {
    **CACHES,
    "lockout": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "lockout"},
}
CRM_LOCKOUT_CACHE = "lockout"
# Close connections after each request so test databases can be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0

# A Celery worker process that a test starts gets that test's settings on top of these
# (crm_site.testing.celery_worker_process(worker_settings=...) passes them as JSON).
globals().update(json.loads(os.environ.get("CRM_TEST_SETTINGS") or "{}"))
