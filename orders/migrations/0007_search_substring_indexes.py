"""PostgreSQL only: trigram indexes for the global search (ticket subjects, project and deal names).

``icontains``/``istartswith`` compile to ``UPPER(col::text) LIKE UPPER(...)`` on PostgreSQL; these GIN
indexes serve them (``crm_site.db.substring_index_add``; nothing on SQLite or MongoDB). Order and ticket
numbers match from their start through the unique indexes (and their ``_like`` twins) already there.
"""

from django.db import migrations

from crm_site.db import substring_index_add, substring_index_remove

INDEXES = [
    ("orders_serviceorder", "subject", "serviceorder_subject_trgm"),
    ("orders_project", "name", "project_name_trgm"),
    ("orders_opportunity", "name", "opportunity_name_trgm"),
]


def add_indexes(apps, schema_editor):
    for table, column, name in INDEXES:
        substring_index_add(schema_editor, table=table, column=column, name=name, case_insensitive=True)


def remove_indexes(apps, schema_editor):
    for _table, _column, name in INDEXES:
        substring_index_remove(schema_editor, name=name)


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_status_change")]

    operations = [migrations.RunPython(add_indexes, remove_indexes, elidable=False)]
