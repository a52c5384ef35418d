"""The MongoDB database wrapper: django-mongodb-backend's, with decimals at their scale, commit hooks, and
plain (usable) indexes on primary keys (``crm_site.mongodb_backend.schema``).

django-mongodb-backend stores a ``DecimalField`` value as ``Decimal128(value)`` exactly as given, so a
``Decimal("65000")`` (an amount computed from integers) is stored and read back without its decimal
places and renders as "65,000" where SQLite and PostgreSQL show "65,000.00" (SQLite quantizes when it
writes and reads a column; PostgreSQL's ``numeric(12, 2)`` keeps the scale). Here the value is quantized
to the field's ``decimal_places`` when written, and a column is quantized when read (rows written before
this fix), so amounts are identical on every backend.

``Value.as_mql`` of django-mongodb-backend does not call its output field's ``get_db_prep_save``
(https://github.com/mongodb/django-mongodb-backend/issues/282), so ``bulk_update``, which wraps each value
in ``Value(value, output_field=field)``, would write an encrypted field's clear value (issue 13). Here a
``Value`` whose output field is one of ``crm_site.fields``' encrypted fields is encrypted first.
"""

from __future__ import annotations

import decimal
from typing import Any

from django.db.backends.utils import format_number
from django.db.models import TextField
from django.db.models.expressions import Col, Value
from django_mongodb_backend.base import DatabaseWrapper as MongoDatabaseWrapper
from django_mongodb_backend.operations import DatabaseOperations as MongoDatabaseOperations

from crm_site.fields import EncryptedMixin
from crm_site.mongodb_backend.schema import DatabaseSchemaEditor

_value_as_mql = Value.as_mql  # type: ignore[attr-defined]


def _encrypted_value_as_mql(self: Value, compiler: Any, connection: Any, *args: Any, **kwargs: Any) -> Any:
    field = self._output_field_or_none  # type: ignore[attr-defined]
    if isinstance(field, EncryptedMixin):
        token = field.get_db_prep_value(self.value, connection)
        return _value_as_mql(Value(token, output_field=TextField()), compiler, connection, *args, **kwargs)
    return _value_as_mql(self, compiler, connection, *args, **kwargs)


Value.as_mql = _encrypted_value_as_mql  # type: ignore[attr-defined]


class DatabaseOperations(MongoDatabaseOperations):
    def adapt_decimalfield_value(
        self, value: Any, max_digits: int | None = None, decimal_places: int | None = None
    ) -> Any:
        if value is None:
            return None
        if decimal_places is not None and isinstance(value, decimal.Decimal):
            formatted = format_number(value, max_digits, decimal_places)
            if formatted is not None:
                value = decimal.Decimal(formatted)
        return super().adapt_decimalfield_value(value, max_digits, decimal_places)

    def convert_decimalfield_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().convert_decimalfield_value(value, expression, connection)
        places = (
            getattr(expression.output_field, "decimal_places", None) if isinstance(expression, Col) else None
        )
        if value is None or places is None or not value.is_finite():
            return value
        return value.quantize(decimal.Decimal(1).scaleb(-places), context=expression.output_field.context)


class DatabaseWrapper(MongoDatabaseWrapper):
    ops_class = DatabaseOperations
    SchemaEditorClass = DatabaseSchemaEditor

    def run_and_clear_commit_hooks(self) -> None:
        """Run the hooks of a committed MongoDB transaction, even inside Django's own ``atomic`` block.

        Django's ``transaction.atomic`` does nothing on this backend (the admin wraps every change view in
        one); the transaction of ``crm_site.db.atomic`` inside it really committed, so its on-commit hooks
        run. Django's check for an open block raised TransactionManagementError (a 500 on the segment
        admin's save).
        """
        in_block: bool = getattr(self, "in_atomic_block", False)
        self.in_atomic_block = False
        try:
            super().run_and_clear_commit_hooks()
        finally:
            self.in_atomic_block = in_block
