"""DATABASE_URL picks the backend; production refuses to start without a real secret."""

import subprocess
import sys
from pathlib import Path

import pytest

from crm_site import testing
from crm_site.settings.database import backend_of, database_config

BASE_DIR = Path(__file__).resolve().parents[2]


def test_unset_database_url_means_an_sqlite_file_in_the_project_folder():
    config = database_config("", BASE_DIR)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(BASE_DIR / "db.sqlite3")


def test_postgres_url_selects_psycopg_backend_with_credentials():
    config = database_config("postgres://crm:secret@db.internal:5433/crmdb", BASE_DIR)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == (
        "crm",
        "secret",
        "db.internal",
        5433,
        "crmdb",
    )


def test_mongodb_url_goes_whole_into_host_and_names_the_database():
    config = database_config("mongodb://user:pw@mongo1:27017,mongo2:27017/crm_prod?replicaSet=rs0", BASE_DIR)
    assert config["ENGINE"] == "crm_site.mongodb_backend"
    assert config["NAME"] == "crm_prod"
    assert config["HOST"] == "mongodb://user:pw@mongo1:27017,mongo2:27017/?replicaSet=rs0"


def test_mongodb_url_without_a_path_uses_the_crm_database():
    assert database_config("mongodb+srv://cluster.example.net", BASE_DIR)["NAME"] == "crm"


def test_unknown_database_scheme_is_refused_with_the_variable_named():
    with pytest.raises(ValueError, match="DATABASE_URL: unsupported scheme 'mysql'"):
        backend_of("mysql://root@localhost/crm")


def _run_settings(module: str, env: dict[str, str], expression: str = "'ok'") -> subprocess.CompletedProcess:
    """Load ``module`` in a fresh interpreter with only ``env`` set, and print ``expression`` there."""
    code = (
        f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='{module}'; django.setup();"
        f"from django.conf import settings; print({expression})"
    )
    clean_env = {"PATH": "/usr/bin:/bin", **env}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=clean_env, capture_output=True, text=True, timeout=60
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _run_settings("crm_site.settings.production", {})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_check_deploy_with_a_secret_from_the_environment():
    secret = "x" * 20 + "production-secret-from-environment-1234567890"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "crm_site.settings.production",
            "DJANGO_SECRET_KEY": secret,
            **testing.personal_data_keys_env(),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


BROKER = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
LOCAL = "crm_site.settings.local"


def test_local_settings_run_tasks_in_process_when_no_broker_is_configured():
    eager = _run_settings(LOCAL, {}, "settings.CELERY_TASK_ALWAYS_EAGER")
    assert eager.returncode == 0, eager.stderr
    assert eager.stdout.strip() == "True"
    assert _run_settings(LOCAL, BROKER, "settings.CELERY_TASK_ALWAYS_EAGER").stdout.strip() == "False"


def test_the_cache_is_shared_through_redis_when_a_broker_is_configured():
    backend = "settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]"
    assert _run_settings(LOCAL, {}, backend).stdout.strip() == "LocMemCache"
    assert _run_settings(LOCAL, BROKER, backend).stdout.strip() == "RedisCache"


def test_production_trusts_x_forwarded_proto_only_when_told_it_runs_behind_a_tls_proxy():
    production = {"DJANGO_SECRET_KEY": "y" * 60}
    module = "crm_site.settings.production"
    header = "settings.SECURE_PROXY_SSL_HEADER"
    default = _run_settings(module, production, header)
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "None"
    behind = _run_settings(module, {**production, "DJANGO_BEHIND_TLS_PROXY": "1"}, header)
    assert behind.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
    # Secure cookies and the HTTPS redirect stay on either way.
    secure = "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT"
    for extra in ({}, {"DJANGO_BEHIND_TLS_PROXY": "1"}):
        assert _run_settings(module, {**production, **extra}, secure).stdout.split() == ["True"] * 3
