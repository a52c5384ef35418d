"""Portable database helpers: the one way to open a transaction on every backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connections, transaction


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


def on_commit(func: Callable[[], Any], using: str = "default") -> None:
    """Run ``func`` after the current transaction commits (at once when none is open)."""
    transaction.on_commit(func, using=using)


@contextmanager
def bulk_reads(using: str = "default") -> Iterator[None]:
    """Cheaper row parsing for bulk readers (the profile pipeline's inputs) on PostgreSQL.

    Inside the block: ``timestamptz`` values are parsed by psycopg's C loader (Django registers a
    pure-Python subclass on every connection to attach its time zone: ~10 µs a value, most of the time of
    reading 10 M events), and ``uuid`` values arrive as their canonical text (``str(uuid)``) instead of
    UUID objects, which bulk readers turned into strings anyway. Datetimes are equal to Django's (the
    session runs in the connection's time zone, UTC with ``USE_TZ``). Callers must accept ids as str or
    UUID (``str()`` them): on other backends this is a no-op.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        yield
        return
    from psycopg import adapters, postgres
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    timestamptz, uuid, text = (postgres.types[name].oid for name in ("timestamptz", "uuid", "text"))
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
    previous = {oid: raw.adapters.get_loader(oid, Format.TEXT) for oid in (timestamptz, uuid)}
    raw.adapters.register_loader(timestamptz, NativeTimestamptzLoader)
    raw.adapters.register_loader(uuid, adapters.get_loader(text, Format.TEXT))
    try:
        yield
    finally:
        if connection.connection is raw:
            for oid, loader in previous.items():
                raw.adapters.register_loader(oid, loader)
