"""PostgreSQL-only fast path of the demo seeder: one COPY per table and chunk.

Used only by ``customers.demo`` behind ``connection.vendor == "postgresql"``; the product never writes
through here. COPY skips Django's per-object work (``pre_save``, parameter adaptation of ~20 values per
row), which is what limits ``bulk_create`` to ~500 customers/s with their child rows on a 2-core machine.
Column lists come from the models' ``_meta``, so fields the seeder does not generate get their model
default and a schema change does not silently shift columns.

Text-format COPY: values are joined with tabs, NULL is ``\\N``. The generated values are drawn from
fixed word lists without tabs, newlines or backslashes, so they need no escaping; ``_text`` escapes the
defaults anyway.
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

from customers.models import Address, ContactMethod, Customer, CustomerTag, Relationship

NULL = "\\N"


def _text(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _bools(values: Iterable[bool]) -> list[str]:
    return ["t" if value else "f" for value in values]


def _hex_ids(raw: np.ndarray) -> list[str]:
    """PostgreSQL reads a uuid from 32 hex digits without dashes."""
    data = raw.tobytes().hex()
    return [data[i : i + 32] for i in range(0, len(data), 32)]


def _timestamps(values: np.ndarray) -> list[str]:
    return [f"{value}+00" for value in np.datetime_as_string(values, unit="us")]


def _copy(model: type[models.Model], columns: Mapping[str, Iterable[str]], rows: int) -> None:
    """COPY ``rows`` rows into ``model``'s table; fields missing from ``columns`` get their default."""
    fields = [field for field in model._meta.concrete_fields]
    sources: list[Iterable[str]] = []
    for field in fields:
        if field.attname in columns:
            sources.append(columns[field.attname])
        else:
            sources.append(repeat(_text(field.get_default()), rows))
    buffer = io.StringIO()
    for row in zip(*sources, strict=False):
        buffer.write("\t".join(row))
        buffer.write("\n")
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def write_chunk(chunk: Any) -> None:
    """Write a ``customers.demo.Chunk`` with COPY; child rows carry their customer's timestamps."""
    with connection.cursor() as cursor:
        # Demo data can be seeded again: no need to wait for the WAL flush at every chunk's commit.
        cursor.execute("SET LOCAL synchronous_commit = off")
    size = len(chunk.name)
    ids = _hex_ids(chunk.ids)
    created, updated = _timestamps(chunk.created_at), _timestamps(chunk.updated_at)
    births = [NULL if value == "NaT" else value for value in np.datetime_as_string(chunk.birth_date)]
    _copy(
        Customer,
        {
            "id": ids,
            "created_at": created,
            "updated_at": updated,
            "kind": chunk.kind,
            "name": chunk.name,
            "gender": chunk.gender,
            "birth_date": births,
            "company_name": chunk.company_name,
            "notes": chunk.notes,
            "lifecycle_stage": chunk.stage,
            "source": chunk.source,
            "owner_id": [str(owner) for owner in chunk.owner_ids],
            "external_id": [f"DEMO-{serial:07d}" for serial in chunk.serials],
            "marketing_consent": _bools(chunk.consent),
        },
        size,
    )
    contacts = chunk.contacts
    _copy(
        ContactMethod,
        {
            "id": _hex_ids(chunk.child_ids["contacts"]),
            "created_at": [created[row[0]] for row in contacts],
            "updated_at": [created[row[0]] for row in contacts],
            "customer_id": [ids[row[0]] for row in contacts],
            "kind": [row[1] for row in contacts],
            "value": [row[2] for row in contacts],
            "value_normalized": [row[3] for row in contacts],
            "is_primary": _bools(row[4] for row in contacts),
        },
        len(contacts),
    )
    addresses = chunk.addresses
    _copy(
        Address,
        {
            "id": _hex_ids(chunk.child_ids["addresses"]),
            "created_at": [created[row[0]] for row in addresses],
            "updated_at": [created[row[0]] for row in addresses],
            "customer_id": [ids[row[0]] for row in addresses],
            "label": repeat("家 Home", len(addresses)),
            "province": [row[1] for row in addresses],
            "city": [row[2] for row in addresses],
            "district": [row[3] for row in addresses],
            "street": [row[4] for row in addresses],
            "postal_code": [row[5] for row in addresses],
            "is_default": repeat("t", len(addresses)),
        },
        len(addresses),
    )
    if chunk.tags:
        _copy(
            CustomerTag,
            {
                "id": _hex_ids(chunk.child_ids["tags"]),
                "created_at": [created[row[0]] for row in chunk.tags],
                "updated_at": [created[row[0]] for row in chunk.tags],
                "customer_id": [ids[row[0]] for row in chunk.tags],
                "tag_id": [str(row[1]) for row in chunk.tags],
            },
            len(chunk.tags),
        )
    relations = chunk.relations
    if relations:
        _copy(
            Relationship,
            {
                "id": _hex_ids(chunk.child_ids["relations"]),
                "created_at": [created[row[0]] for row in relations],
                "updated_at": [created[row[0]] for row in relations],
                "customer_id": [ids[row[0]] for row in relations],
                "related_customer_id": [NULL if row[1] is None else ids[row[1]] for row in relations],
                "partner_id": [NULL if row[2] is None else str(row[2]) for row in relations],
                "kind": [row[3] for row in relations],
            },
            len(relations),
        )


BULK_TABLES = (Customer, ContactMethod, Address, CustomerTag, Relationship)


@contextmanager
def indexes_deferred(enabled: bool = True) -> Iterator[None]:
    """Drop the seeded tables' plain secondary indexes and foreign keys, load, then rebuild them once.

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
    tables = [model._meta.db_table for model in BULK_TABLES]
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
