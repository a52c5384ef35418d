# The one entry point for humans. `make run` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_CUSTOMERS ?= 2000

.PHONY: run test lint typecheck check pytest worker beat bench messages venv dev-venv clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing the runtime dependencies into $(VENV) (a few minutes on a fresh machine)..."
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --progress-bar on -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	@echo "Installing the test and tooling dependencies..."
	$(PIP) install --progress-bar on -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed
dev-venv: $(VENV)/.dev-installed

run: venv  ## SQLite, demo data once, demo logins printed; server on 127.0.0.1:8000 with a worker and beat (Ctrl-C stops all)
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo --if-empty --customers $(DEMO_CUSTOMERS)
	$(MANAGE) bootstrap_demo_users
	@echo "Open http://$(HOST):$(PORT)/ and log in with one of the demo logins above."
	$(MANAGE) run_demo $(HOST):$(PORT)

lint: dev-venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: dev-venv  ## mypy with django-stubs over the project's code (tests and migrations excluded)
	$(VENV)/bin/mypy crm_site customers orders profiles sessions_log marketing knowledge

check: dev-venv
	DJANGO_SETTINGS_MODULE=crm_site.settings.test $(MANAGE) check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=crm_site.settings.test $(MANAGE) makemigrations --check --dry-run
	DJANGO_SECRET_KEY=$$(head -c 48 /dev/urandom | base64) DJANGO_SETTINGS_MODULE=crm_site.settings.production \
		CRM_FIELD_ENCRYPTION_KEYS=$$(head -c 32 /dev/urandom | base64 | tr '+/' '-_') \
		CRM_BLIND_INDEX_KEY=$$(head -c 32 /dev/urandom | base64) \
		$(MANAGE) check --deploy --fail-level WARNING

pytest: dev-venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint typecheck check pytest  ## ruff, mypy, manage.py check (and --deploy), makemigrations --check, pytest

worker: venv  ## needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0
	$(VENV)/bin/celery -A crm_site worker --loglevel INFO

beat: venv
	$(VENV)/bin/celery -A crm_site beat --loglevel INFO --scheduler django_celery_beat.schedulers:DatabaseScheduler

bench: dev-venv  ## benchmarks; results go to docs/benchmarks.md (see bench/README.md)
	$(PY) -m bench $(BENCH_ARGS)

I18N_APPS := crm_site customers orders profiles sessions_log marketing knowledge
messages: dev-venv  ## refresh and compile the Simplified Chinese catalogues (needs gettext)
	$(MANAGE) makemessages -l zh_Hans $(addprefix --ignore=,.venv staticfiles bench mongo_migrations $(I18N_APPS))
	for app in $(I18N_APPS); do \
		if [ -d $$app/locale ]; then (cd $$app && ../$(PY) ../manage.py makemessages -l zh_Hans --ignore=tests) || exit 1; fi; \
	done
	$(MANAGE) compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .test-db-*.sqlite3* .run
