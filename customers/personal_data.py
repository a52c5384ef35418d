"""The customers app's part of a data-subject request: master data, contacts, addresses, tags, relations,
consents, merge snapshots and the requests' own free text (``crm_site.personal_data``).

Erasure anonymises the customer row rather than deleting it: the orders kept for accounting point at it
(``SalesOrder.customer`` is PROTECT). The row keeps its kind, owner, lifecycle stage and source; every
value that identifies the person is emptied and the name becomes "Erased customer <first 8 of the id>".
Every consent still granted (and profiling, allowed by default) is withdrawn through the ledger, so no
campaign or profile run picks the anonymised row up again. A finished customer import whose stored file
mentions one of the person's identifiers loses its file and its error entries for those rows (the rule
is in ``customers.import_scrub``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm_site.personal_data import PersonalDataHandler, Rows, fields_of, personal_data
from customers.import_scrub import delete_file_on_commit, markers_of, scrub_imports
from customers.models import (
    Address,
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ContactMethod,
    Customer,
    CustomerImport,
    CustomerMerge,
    CustomerTag,
    DataSubjectRequest,
    Relationship,
)

FINISHED_IMPORTS = (CustomerImport.Status.DONE, CustomerImport.Status.FAILED)
CUSTOMER_FIELDS = (
    "kind",
    "name",
    "gender",
    "birth_date",
    "company_name",
    "job_title",
    "industry",
    "company_size",
    "website",
    "tax_number",
    "id_number",
    "lifecycle_stage",
    "source",
    "external_id",
    "attributes",
    "notes",
    "marketing_consent",
    "consent_changed_at",
    "consent_channel",
    "consent_note",
    "created_at",
)
CONTACT_FIELDS = ("kind", "value", "label", "is_primary", "is_verified", "do_not_contact", "created_at")
ADDRESS_FIELDS = (
    "label",
    "country",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
    "is_default",
)
CONSENT_FIELDS = ("purpose", "granted", "notice_version", "source", "evidence", "recorded_at", "note")
ERASED_PREFIX = "Erased customer"


def erased_name(customer_id: Any) -> str:
    """The name an erased customer keeps (not translated: it is stored data, the same for every reader)."""
    return f"{ERASED_PREFIX} {str(customer_id)[:8]}"


def _relationships(customer_id: Any) -> list[Relationship]:
    return list(
        Relationship.objects.filter(Q(customer_id=customer_id) | Q(related_customer_id=customer_id))
        .select_related("partner")
        .order_by("created_at")
    )


def export_customer(customer_id: Any) -> Rows:
    customer = Customer.objects.get(pk=customer_id)
    tags = CustomerTag.objects.filter(customer_id=customer_id).select_related("tag").order_by("tag__name")
    return {
        "customer": [{"id": customer.pk, **fields_of(customer, CUSTOMER_FIELDS)}],
        "contact_methods": [
            fields_of(row, CONTACT_FIELDS)
            for row in ContactMethod.objects.filter(customer_id=customer_id).order_by("kind", "created_at")
        ],
        "addresses": [
            fields_of(row, ADDRESS_FIELDS)
            for row in Address.objects.filter(customer_id=customer_id).order_by("label", "created_at")
        ],
        "tags": [{"tag": row.tag.name} for row in tags],
        "relationships": [
            {
                "kind": row.kind,
                "direction": "from" if str(row.customer_id) == str(customer_id) else "to",
                # The other person is somebody else's personal data: only the link's kind and note.
                "partner": row.partner.name if row.partner is not None else "",
                "note": row.note,
            }
            for row in _relationships(customer_id)
        ],
        "consents": [
            fields_of(row, CONSENT_FIELDS)
            for row in ConsentRecord.objects.filter(customer_id=customer_id).order_by("recorded_at")
        ],
        "merges": [
            {
                "merged_at": row.created_at,
                "merged_customer_name": row.merged_customer_name,
                "snapshot": row.snapshot,
                "chosen_fields": row.chosen_fields,
            }
            for row in CustomerMerge.objects.filter(survivor_id=customer_id).order_by("created_at")
        ],
    }


def _withdraw_consents(customer: Customer) -> int:
    """Withdraw every marketing consent still granted and refuse profiling (the ledger keeps the proof)."""
    from customers.services.consent import MARKETING_PURPOSES, consent_default, consent_record

    states = dict(ConsentState.objects.filter(customer=customer).values_list("purpose", "granted"))
    withdrawn = 0
    for purpose in (*MARKETING_PURPOSES, ConsentPurpose.PROFILING):
        if states.get(purpose, consent_default(purpose)):
            consent_record(customer=customer, purpose=purpose, granted=False, source=ConsentSource.REQUEST)
            withdrawn += 1
    return withdrawn


def _customer_import_rows(job: CustomerImport) -> Iterator[list[Any]]:
    from customers.importing import iter_rows

    for _number, cells in iter_rows(job.file.path, job.file_format, job.encoding):
        yield cells


def erase_customer(customer_id: Any, *, request: Any) -> dict[str, int]:
    # Read before the contacts go: the finished import files that mention the person (customers.import_scrub).
    finished = CustomerImport.objects.filter(status__in=FINISHED_IMPORTS).exclude(file="")
    imports = scrub_imports(finished, markers_of(customer_id), _customer_import_rows, headers=True)
    counts = {
        "import_files": imports,
        "contact_methods": ContactMethod.objects.filter(customer_id=customer_id).delete()[0],
        "addresses": Address.objects.filter(customer_id=customer_id).delete()[0],
        "tags": CustomerTag.objects.filter(customer_id=customer_id).delete()[0],
    }
    relationship_ids = [row.pk for row in _relationships(customer_id)]
    counts["relationships"] = Relationship.objects.filter(pk__in=relationship_ids).delete()[0]
    counts["consent_notes"] = (
        ConsentRecord.objects.filter(customer_id=customer_id)
        .filter(~Q(evidence="") | ~Q(note=""))
        .update(evidence="", note="")
    )
    merges = [
        row.pk
        for row in CustomerMerge.objects.filter(survivor_id=customer_id).only("pk", "merged_customer_name")
        if row.merged_customer_name != ERASED_PREFIX
    ]
    counts["merges"] = CustomerMerge.objects.filter(pk__in=merges).update(
        snapshot={}, merged_customer_name=ERASED_PREFIX, survivor_name=erased_name(customer_id)
    )
    counts["request_details"] = (
        DataSubjectRequest.objects.filter(customer_id=customer_id).exclude(details="").update(details="")
    )
    # An earlier access or portability request's archive holds everything: its file goes too.
    archived = list(DataSubjectRequest.objects.filter(customer_id=customer_id).exclude(archive=""))
    for row in archived:
        delete_file_on_commit(row.archive)  # after the erasure commits: a rolled-back one keeps it
    counts["request_archives"] = DataSubjectRequest.objects.filter(
        pk__in=[row.pk for row in archived]
    ).update(archive="")
    customer = Customer.objects.get(pk=customer_id)
    counts["consents_withdrawn"] = _withdraw_consents(customer)
    anonymous: dict[str, Any] = {
        "name": erased_name(customer_id),
        "gender": Customer.Gender.UNKNOWN,
        "birth_date": None,
        "company_name": "",
        "job_title": "",
        "industry": "",
        "company_size": None,
        "website": "",
        "tax_number": "",
        "id_number": "",
        "external_id": None,
        "attributes": {},
        "notes": "",
        "marketing_consent": False,
        "consent_channel": "",
        "consent_note": "",
    }
    changed = any(getattr(customer, name) != value for name, value in anonymous.items())
    # One set-based write: the erasure's own audit entry says what happened, not a diff of the old values.
    counts["customer"] = Customer.objects.filter(pk=customer_id).update(**anonymous) if changed else 0
    return counts


personal_data.register(
    PersonalDataHandler(
        key="customers",
        label=_("Customer master data"),
        export=export_customer,
        erase=erase_customer,
        order=100,
    )
)
