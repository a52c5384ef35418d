"""The schema editor: a primary key's unique index is a plain one, so lookups and joins by id use it.

django-mongodb-backend makes every unique index partial (``{field: {$type: ...}}``, so that several
nulls may coexist, as on SQL databases) and its exact lookups carry no ``$type`` condition, so MongoDB's
planner does not pick that index for ``{id: "..."}``: every get by primary key and every ``$lookup``
of ``select_related`` into a collection scanned it whole (upstream INTPYTHON-855). A primary key is
never null, so its index needs no filter.
"""

from __future__ import annotations

from typing import Any

from django_mongodb_backend.schema import DatabaseSchemaEditor as MongoDatabaseSchemaEditor
from pymongo import ASCENDING, IndexModel


class DatabaseSchemaEditor(MongoDatabaseSchemaEditor):
    def _add_field_unique(self, model: Any, field: Any, column_prefix: str = "") -> None:
        if not field.primary_key or column_prefix:
            super()._add_field_unique(model, field, column_prefix=column_prefix)
            return
        # The same name as the backend's, so that removing the constraint later finds it.
        name = str(self._unique_constraint_name(model._meta.db_table, [field.column]))
        index = IndexModel([(field.column, ASCENDING)], name=name, unique=True)
        self.get_collection(model._meta.db_table).create_indexes([index])
