"""PostgreSQL only: trigram indexes for the customer matching rule (global search, customer pickers).

``value_normalized__contains`` (4+ digits inside a phone number, "2493") and ``external_id__istartswith``
are served by an index at 1,000,000 customers; through ``crm_site.db.substring_index_add`` (nothing on
SQLite or MongoDB, where the same lookups scan).
"""

from django.db import migrations

from crm_site.db import substring_index_add, substring_index_remove

INDEXES = [
    ("customers_contactmethod", "value_normalized", "contact_value_trgm", False),
    ("customers_customer", "external_id", "customer_external_id_trgm", True),
]


def add_indexes(apps, schema_editor):
    for table, column, name, case_insensitive in INDEXES:
        substring_index_add(
            schema_editor, table=table, column=column, name=name, case_insensitive=case_insensitive
        )


def remove_indexes(apps, schema_editor):
    for _table, _column, name, _case_insensitive in INDEXES:
        substring_index_remove(schema_editor, name=name)


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_customer_role_permissions")]

    operations = [migrations.RunPython(add_indexes, remove_indexes, elidable=False)]
