"""PostgreSQL-only bulk loading for demo and benchmark seeding: COPY per table and chunk.

Used only by seeders behind ``connection.vendor == "postgresql"`` (``customers.demo``, ``bench``); the
product never writes through here (house rule: no raw SQL outside demo seeding). COPY skips Django's
per-object work (``pre_save``, parameter adaptation of every value), which limits ``bulk_create`` to a few
thousand rows/s on a 2-core machine. Column lists come from the models' ``_meta``, so fields a seeder does
not generate get their model default and a schema change does not silently shift columns.

Text-format COPY: values are joined with tabs, NULL is ``\\N``. Seeders draw values from fixed word lists
without tabs, newlines or backslashes, so they need no escaping; ``text`` escapes the defaults anyway.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import repeat
from typing import Any

import numpy as np
from django.db import connection, models

NULL = "\\N"


def text(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def bools(values: Iterable[bool]) -> list[str]:
    return ["t" if value else "f" for value in values]


def hex_ids(raw: np.ndarray) -> list[str]:
    """PostgreSQL reads a uuid from 32 hex digits without dashes."""
    data = raw.tobytes().hex()
    return [data[i : i + 32] for i in range(0, len(data), 32)]


def timestamps(values: np.ndarray) -> list[str]:
    return [f"{value}+00" for value in np.datetime_as_string(values, unit="us")]


def no_commit_flush() -> None:
    """This transaction's COMMIT does not wait for the WAL flush (seed data can be seeded again)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def copy_rows(model: type[models.Model], columns: Mapping[str, Iterable[str]], rows: int) -> None:
    """COPY ``rows`` rows into ``model``'s table; fields missing from ``columns`` get their default."""
    fields = [field for field in model._meta.concrete_fields]
    sources: list[Iterable[str]] = []
    for field in fields:
        if field.attname in columns:
            sources.append(columns[field.attname])
        else:
            sources.append(repeat(text(field.get_default()), rows))
    buffer = io.StringIO()
    for row in zip(*sources, strict=False):
        buffer.write("\t".join(row))
        buffer.write("\n")
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


@contextmanager
def indexes_deferred(tables_of: Iterable[type[models.Model]], enabled: bool = True) -> Iterator[None]:
    """Drop the given tables' plain secondary indexes and foreign keys, load, then rebuild them once.

    Keeping ~25 btree and two trigram GIN indexes up to date row by row, and firing one foreign-key
    trigger per inserted row at commit, costs more than the COPY itself; one sort-based CREATE INDEX per
    index and one validating ALTER TABLE per foreign key after the load are several times cheaper for a
    large seed. Primary keys and unique constraints stay. Everything is restored in ``finally`` (an
    interrupted seed does not leave the schema without them; re-adding a foreign key validates every
    row), then the tables are analysed so the planner sees the new row counts at once.
    """
    if not enabled:
        yield
        return
    tables = [model._meta.db_table for model in tables_of]
    restore: list[str] = []
    with connection.cursor() as cursor:
        # ALTER TABLE refuses tables with pending deferred checks (rows written earlier in this transaction).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])",
            [tables],
        )
        for table, name, definition in cursor.fetchall():
            quoted, constraint = connection.ops.quote_name(table), connection.ops.quote_name(name)
            restore.append(f"ALTER TABLE {quoted} ADD CONSTRAINT {constraint} {definition}")
            cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {constraint}")
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            [tables],
        )
        for name, definition in cursor.fetchall():
            restore.insert(0, definition)  # indexes first: the foreign-key validation can use them
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for statement in restore:
                cursor.execute(statement)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
