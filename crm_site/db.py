"""Portable database helpers: the one way to open a transaction on every backend."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, transaction


def is_mongodb(using: str = "default") -> bool:
    """True when the database alias is served by django-mongodb-backend."""
    return connections[using].vendor == "mongodb"


def atomic(using: str | Callable[..., Any] | None = None, savepoint: bool = True) -> Any:
    """``transaction.atomic`` that also works on MongoDB.

    Django's own ``transaction.atomic`` does nothing on MongoDB; the backend's own ``atomic`` runs a
    real multi-document transaction on a replica set and has no savepoints, so nested blocks join the
    outer one. Usable bare (``@atomic``) or called (``@atomic()``, ``with atomic():``).
    """
    if callable(using):
        return atomic()(using)
    alias = using or "default"
    if is_mongodb(alias):
        from django_mongodb_backend import transaction as mongo_transaction

        return mongo_transaction.atomic(using=alias)
    return transaction.atomic(using=alias, savepoint=savepoint)


def create_once(model: Any, **fields: Any) -> Any | None:
    """Insert the row a unique constraint keeps single, or None when another writer already has it.

    "Claim, then act" for jobs that may run twice at once (the morning digest). On SQL databases the
    insert runs in a savepoint, so the IntegrityError does not break the caller's transaction. On
    MongoDB it runs outside any transaction: one insert is atomic there on its own, and inside a
    transaction two concurrent claims end in a write conflict (``DatabaseError``) instead of the unique
    index's duplicate-key error, which is the answer the caller needs.
    """
    try:
        if is_mongodb():
            return model._default_manager.create(**fields)
        with transaction.atomic():
            return model._default_manager.create(**fields)
    except IntegrityError:
        return None


def related_rows(queryset: Any, *fields: str) -> Any:
    """The objects behind ``fields`` (foreign keys) for a list page: joined on SQL databases, fetched
    after the page on MongoDB.

    ``select_related`` is a join in the same query everywhere; on MongoDB it is a ``$lookup`` written
    before the page's ``$sort`` and ``$limit``, so every row the filter keeps is joined (a manager's first
    page of 25 orders joined all 6,292 orders at 2,000 customers). ``prefetch_related`` reads the
    page's related rows by id afterwards: one more query per field, on their indexes.
    """
    return queryset.prefetch_related(*fields) if is_mongodb() else queryset.select_related(*fields)


def on_commit(func: Callable[[], Any], using: str = "default") -> None:
    """Run ``func`` after the current transaction commits (at once when none is open)."""
    transaction.on_commit(func, using=using)


@contextmanager
def bulk_reads(using: str = "default") -> Iterator[None]:
    """Cheaper row parsing for bulk readers (the profile pipeline's inputs); ids as text on every backend.

    Inside the block every UUID value (keys and foreign keys) arrives as its canonical text
    (``str(uuid)``), the form bulk readers key their frames by, so callers never test the type. On
    PostgreSQL psycopg hands the text over unparsed and ``timestamptz`` values are parsed by its C loader
    (Django registers a pure-Python subclass on every connection to attach its time zone: ~10 µs a value,
    most of the time of reading 10 M events); datetimes are equal to Django's (the session runs in the
    connection's time zone, UTC with ``USE_TZ``). Elsewhere the backend's UUID converter yields the text.
    """
    connection: Any = connections[using]
    # Blocks may overlap (two readers' generators, one closed late): the first in sets up, the last out
    # restores.
    depth = getattr(connection, "_bulk_reads_depth", 0)
    if not depth:
        setup = _postgres_loaders if connection.vendor == "postgresql" else _uuid_text_converter
        connection._bulk_reads_restore = setup(connection)
    connection._bulk_reads_depth = depth + 1
    try:
        yield
    finally:
        connection._bulk_reads_depth -= 1
        if not connection._bulk_reads_depth:
            connection._bulk_reads_restore()


def _uuid_text(value: Any, expression: Any, connection: Any) -> str | None:
    """A stored UUID's canonical text: the converter SQLite and MongoDB use inside ``bulk_reads``."""
    return None if value is None else str(uuid.UUID(value))


def _uuid_text_converter(connection: Any) -> Callable[[], None]:
    ops = connection.ops
    ops.convert_uuidfield_value = _uuid_text  # this connection's operations only

    def restore() -> None:
        del ops.convert_uuidfield_value

    return restore


def _postgres_loaders(connection: Any) -> Callable[[], None]:
    from psycopg import adapters, postgres
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    timestamptz, uuid_oid, text = (postgres.types[name].oid for name in ("timestamptz", "uuid", "text"))
    native: Any = adapters.get_loader(timestamptz, Format.TEXT)
    zone = connection.timezone

    class NativeTimestamptzLoader(Loader):
        # Django's create_cursor() compares this with its own time zone before reusing the loader.
        timezone = zone

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._native = native(oid, context)

        def load(self, data: Any) -> Any:
            return self._native.load(data)

    connection.ensure_connection()
    raw = connection.connection
    previous = {oid: raw.adapters.get_loader(oid, Format.TEXT) for oid in (timestamptz, uuid_oid)}
    if settings.USE_TZ:
        raw.adapters.register_loader(timestamptz, NativeTimestamptzLoader)
    raw.adapters.register_loader(uuid_oid, adapters.get_loader(text, Format.TEXT))

    def restore() -> None:
        if connection.connection is raw:
            for oid, loader in previous.items():
                raw.adapters.register_loader(oid, loader)

    return restore


def substring_index_add(
    schema_editor: Any, *, table: str, column: str, name: str, case_insensitive: bool = False
) -> None:
    """An index that serves substring lookups on ``table.column``; on PostgreSQL only (a migration step).

    PostgreSQL: a pg_trgm GIN index (the extension is created when missing) on the column, or with
    ``case_insensitive`` on ``UPPER(column::text)``, the expression Django compiles ``icontains`` and
    ``istartswith`` to; ``contains`` and ``startswith`` use the plain one. Queries stay plain ORM lookups
    on every backend; SQLite and MongoDB get no index (their tables in this product's deployments are the
    embedded demo and the document store, where the lookup is a scan).
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    expression = f"UPPER(({quote(column)})::text)" if case_insensitive else f"({quote(column)})"
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} USING gin ({expression} gin_trgm_ops)"
    )


def substring_index_remove(schema_editor: Any, *, name: str) -> None:
    """Undo ``substring_index_add`` (nothing to do off PostgreSQL)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
