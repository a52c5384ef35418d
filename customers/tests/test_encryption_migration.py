"""Migrations 0009-0011 (issue 13): rows written in clear before them come out encrypted and searchable.

The test run itself builds its database without migrations (``--no-migrations``), so this runs
``manage.py`` in a subprocess on a scratch database of the backend under test (a file on SQLite, a
``<test db>_mig`` database on PostgreSQL and MongoDB): migrate, go back to 0008, write clear rows through
the historical models, migrate forward, read the stored values past the fields (and re-run the data step).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from crm_site import testing
from crm_site.testing import BASE_DIR

SCRIPT = r"""
import datetime, json
from importlib import import_module
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

call_command("migrate", verbosity=0)
call_command("migrate", "customers", "0008", verbosity=0)
def state(name):
    return MigrationExecutor(connection).loader.project_state([("customers", name)]).apps

old = state("0008_privacy_ledger_requests_suppression")
customer = old.get_model("customers", "Customer").objects.create(
    name="Clear Old", birth_date=datetime.date(1980, 2, 3), id_number="110105198002030011"
)
contacts = old.get_model("customers", "ContactMethod")
contacts.objects.create(
    customer=customer, kind="mobile", value="+86 139 0000 1234", value_normalized="13900001234"
)
contacts.objects.create(
    customer=customer, kind="email", value="Old@Example.com", value_normalized="old@example.com"
)
old.get_model("customers", "Address").objects.create(
    customer=customer, city="SH", street="Century Ave 1", postal_code="200120"
)
call_command("migrate", verbosity=0)

from customers.models import Address, ContactMethod, Customer
from customers.normalize import contact_hash

COLUMNS = [("customers_contactmethod", "value"), ("customers_customer", "birth_date"),
           ("customers_customer", "id_number"), ("customers_address", "street"),
           ("customers_address", "postal_code")]

def raw():
    out = []
    for table, column in COLUMNS:
        if connection.vendor == "mongodb":
            out += [doc.get(column) for doc in connection.database[table].find({}, {column: 1})]
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table}")
            out += [row[0] for row in cursor.fetchall()]
    return out

before = raw()
data = import_module("customers.migrations.0010_encrypt_existing_rows")
data.encrypt_rows(state("0011_drop_value_normalized"), None)
c = Customer.objects.get()
rows = {m.kind: m for m in ContactMethod.objects.all()}
print(json.dumps({
    "raw": before,
    "again_unchanged": raw() == before,
    "birth_date": str(c.birth_date), "id_number": c.id_number,
    "street": Address.objects.get().street, "postal_code": Address.objects.get().postal_code,
    "mobile": rows["mobile"].value, "email": rows["email"].value,
    "mobile_hash_ok": rows["mobile"].value_hash == contact_hash("13900001234"),
    "email_hash_ok": rows["email"].value_hash == contact_hash("old@example.com"),
    "tails": [rows["mobile"].value_tail, rows["email"].value_tail],
}))
"""


@pytest.fixture
def scratch_url(tmp_path):
    """A DATABASE_URL of an empty database on the backend under test, dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    url = testing.test_database_url()
    name = settings.DATABASES["default"]["NAME"]
    scratch = f"{name}_mig"
    if connection.vendor == "mongodb":
        connection.database.client.drop_database(scratch)
        yield url.replace(f"/{name}", f"/{scratch}", 1)
        connection.database.client.drop_database(scratch)
        return
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        pg.execute(f'CREATE DATABASE "{scratch}"')
    yield url.rsplit("/", 1)[0] + f"/{scratch}"
    with psycopg.connect(admin, autocommit=True) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


@pytest.mark.django_db
def test_the_migrations_encrypt_the_rows_written_in_clear_and_can_run_again(scratch_url):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings.test",
        "DATABASE_URL": scratch_url,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(str(value).startswith("gAAAAA") for value in found["raw"]) and len(found["raw"]) == 6
    for clear in ("13900001234", "Old@Example.com", "1980", "110105198002030011", "Century", "200120"):
        assert clear not in " ".join(found["raw"])
    assert found["again_unchanged"]
    assert (found["birth_date"], found["id_number"]) == ("1980-02-03", "110105198002030011")
    assert (found["street"], found["postal_code"]) == ("Century Ave 1", "200120")
    assert (found["mobile"], found["email"]) == ("+86 139 0000 1234", "Old@Example.com")
    assert found["mobile_hash_ok"] and found["email_hash_ok"] and found["tails"] == ["", "old"]
