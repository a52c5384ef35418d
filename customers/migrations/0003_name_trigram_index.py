"""PostgreSQL only: trigram indexes so that name/company substring search (icontains) stays fast at 1M rows.

Django's icontains on PostgreSQL compares UPPER(col::text) LIKE UPPER(%s); the index is on that expression.
SQLite and MongoDB skip these operations (the vendor guard), so no app code carries SQL.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {"customer_name_trgm": "name", "customer_company_trgm": "company_name"}


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "customers_customer" '
            f'USING gin ((UPPER(("{column}")::text)) gin_trgm_ops)'
        )


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_json_blank")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(add_indexes, remove_indexes, elidable=False),
    ]
