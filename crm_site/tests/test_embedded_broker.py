"""`make run`'s embedded broker (CELERY_BROKER_URL=filesystem://): its settings; production refuses it."""

import json
import subprocess
import sys

from crm_site.testing import BASE_DIR

SHOW = (
    "import json; from django.conf import settings as s;"
    "print(json.dumps({'eager': s.CELERY_TASK_ALWAYS_EAGER, 'result': s.CELERY_RESULT_BACKEND,"
    "'options': s.CELERY_BROKER_TRANSPORT_OPTIONS, 'cache': s.CACHES['default']['BACKEND']}))"
)


def _settings(module: str, tmp_path, **extra: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": module,
        "CELERY_BROKER_URL": "filesystem://localhost/",
        "CELERY_EMBEDDED_DIR": str(tmp_path / "celery"),
        **extra,
    }
    code = f"import django; django.setup(); {SHOW}"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_embedded_broker_queues_results_and_caches_in_files_shared_by_every_process(tmp_path):
    result = _settings("crm_site.settings.local", tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    folder = tmp_path / "celery"
    assert shown["eager"] is False
    assert shown["result"] == f"file://{folder / 'results'}"
    assert shown["options"]["data_folder_in"] == shown["options"]["data_folder_out"] == str(folder / "queue")
    assert shown["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert all((folder / name).is_dir() for name in ("queue", "control", "results", "cache"))


def test_production_settings_refuse_the_embedded_broker(tmp_path):
    result = _settings("crm_site.settings.production", tmp_path, DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "production needs a real broker" in result.stderr
