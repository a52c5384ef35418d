"""PostgreSQL-only fast path of the demo customer seeder: one COPY per table and chunk.

Used only by ``customers.demo`` behind ``connection.vendor == "postgresql"``; the helpers live in
``crm_site.copy_load`` (shared with the benchmark seeders).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from itertools import repeat
from typing import Any

import numpy as np

from crm_site.copy_load import NULL, bools, copy_rows, hex_ids, no_commit_flush, timestamps
from crm_site.copy_load import indexes_deferred as _deferred
from crm_site.fields import encrypt_text
from customers.models import (
    Address,
    ConsentRecord,
    ConsentState,
    ContactMethod,
    Customer,
    CustomerTag,
    Relationship,
)
from customers.normalize import contact_grams, contact_hash, contact_tail


def _encrypted(values: Any) -> list[str]:
    """Fernet tokens of the values, as the encrypted fields store them (COPY skips the fields' own prep)."""
    return [NULL if value == NULL else (encrypt_text(value) if value else "") for value in values]


def write_chunk(chunk: Any) -> None:
    """Write a ``customers.demo.Chunk`` with COPY; child rows carry their customer's timestamps."""
    no_commit_flush()
    size = len(chunk.name)
    ids = hex_ids(chunk.ids)
    created, updated = timestamps(chunk.created_at), timestamps(chunk.updated_at)
    births = [NULL if value == "NaT" else value for value in np.datetime_as_string(chunk.birth_date)]
    copy_rows(
        Customer,
        {
            "id": ids,
            "created_at": created,
            "updated_at": updated,
            "kind": chunk.kind,
            "name": chunk.name,
            "gender": chunk.gender,
            "birth_date": _encrypted(births),
            "company_name": chunk.company_name,
            "notes": chunk.notes,
            "lifecycle_stage": chunk.stage,
            "source": chunk.source,
            "owner_id": [str(owner) for owner in chunk.owner_ids],
            "external_id": [f"DEMO-{serial:07d}" for serial in chunk.serials],
            "marketing_consent": bools(chunk.consent),
            "consent_changed_at": [created[i] if given else NULL for i, given in enumerate(chunk.consent)],
            "consent_channel": [
                Customer.ConsentChannel.IMPORT.value if given else "" for given in chunk.consent
            ],
        },
        size,
    )
    contacts = chunk.contacts
    copy_rows(
        ContactMethod,
        {
            "id": hex_ids(chunk.child_ids["contacts"]),
            "created_at": [created[row[0]] for row in contacts],
            "updated_at": [created[row[0]] for row in contacts],
            "customer_id": [ids[row[0]] for row in contacts],
            "kind": [row[1] for row in contacts],
            "value": _encrypted(row[2] for row in contacts),
            "value_hash": [contact_hash(row[3]) for row in contacts],
            "value_tail": [contact_tail(row[1], row[3]) for row in contacts],
            "value_grams": [contact_grams(row[1], row[3]) for row in contacts],
            "is_primary": bools(row[4] for row in contacts),
        },
        len(contacts),
    )
    addresses = chunk.addresses
    copy_rows(
        Address,
        {
            "id": hex_ids(chunk.child_ids["addresses"]),
            "created_at": [created[row[0]] for row in addresses],
            "updated_at": [created[row[0]] for row in addresses],
            "customer_id": [ids[row[0]] for row in addresses],
            "label": repeat("家 Home", len(addresses)),
            "province": [row[1] for row in addresses],
            "city": [row[2] for row in addresses],
            "district": [row[3] for row in addresses],
            "street": _encrypted(row[4] for row in addresses),
            "postal_code": _encrypted(row[5] for row in addresses),
            "is_default": repeat("t", len(addresses)),
        },
        len(addresses),
    )
    if chunk.tags:
        copy_rows(
            CustomerTag,
            {
                "id": hex_ids(chunk.child_ids["tags"]),
                "created_at": [created[row[0]] for row in chunk.tags],
                "updated_at": [created[row[0]] for row in chunk.tags],
                "customer_id": [ids[row[0]] for row in chunk.tags],
                "tag_id": [str(row[1]) for row in chunk.tags],
            },
            len(chunk.tags),
        )
    relations = chunk.relations
    if relations:
        copy_rows(
            Relationship,
            {
                "id": hex_ids(chunk.child_ids["relations"]),
                "created_at": [created[row[0]] for row in relations],
                "updated_at": [created[row[0]] for row in relations],
                "customer_id": [ids[row[0]] for row in relations],
                "related_customer_id": [NULL if row[1] is None else ids[row[1]] for row in relations],
                "partner_id": [NULL if row[2] is None else str(row[2]) for row in relations],
                "kind": [row[3] for row in relations],
            },
            len(relations),
        )


def write_consents(records: list[Any], states: list[Any]) -> None:
    """COPY a chunk's consent records and their states (``customers.demo._write_consents``)."""

    def stamp(moment: Any) -> str:
        return moment.isoformat()

    copy_rows(
        ConsentRecord,
        {
            "id": [record.id.hex for record in records],
            "created_at": [stamp(record.recorded_at) for record in records],
            "updated_at": [stamp(record.recorded_at) for record in records],
            "customer_id": [record.customer_id.hex for record in records],
            "purpose": [record.purpose for record in records],
            "granted": bools(record.granted for record in records),
            "notice_version": [record.notice_version for record in records],
            "source": [record.source for record in records],
            "evidence": [record.evidence for record in records],
            "recorded_at": [stamp(record.recorded_at) for record in records],
        },
        len(records),
    )
    copy_rows(
        ConsentState,
        {
            "id": [state.id.hex for state in states],
            "created_at": [stamp(state.changed_at) for state in states],
            "updated_at": [stamp(state.changed_at) for state in states],
            "customer_id": [state.customer_id.hex for state in states],
            "purpose": [state.purpose for state in states],
            "granted": bools(state.granted for state in states),
            "changed_at": [stamp(state.changed_at) for state in states],
            "record_id": [state.record_id.hex for state in states],
        },
        len(states),
    )


BULK_TABLES = (Customer, ContactMethod, Address, CustomerTag, Relationship)


def indexes_deferred(enabled: bool = True) -> AbstractContextManager[None]:
    """crm_site.copy_load.indexes_deferred over the customer tables."""
    return _deferred(BULK_TABLES, enabled)
