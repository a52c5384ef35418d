"""PostgreSQL only: a trigram index on contact values, so a run of phone digits ("2493") found inside a
number stays an index lookup at 1M customers (``customers.selectors.customer_choices``: LIKE '%2493%').

SQLite and MongoDB skip it (the vendor guard), so no app code carries SQL. Email prefixes and whole values
keep using the btree indexes Django made for ``value_normalized``.
"""

from django.db import migrations

INDEX = "contact_value_trgm"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "customers_contactmethod" '
        'USING gin ("value_normalized" gin_trgm_ops)'
    )


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_customer_role_permissions")]

    operations = [migrations.RunPython(add_index, remove_index, elidable=False)]
