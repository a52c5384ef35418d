"""The audit trail: who changed what (old and new values), on every path, sealed so tampering shows."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from crm_site.audit.models import AuditEntry, AuditSeal
from crm_site.audit.trail import acting_as, seal_pending, verify_chain
from crm_site.testing import create_user
from customers.models import Customer
from customers.services import customer_create, customer_update
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def entries_for(obj) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_id=str(obj.pk)).order_by("at", "id"))


def test_update_service_records_old_and_new_values_and_who():
    seller = create_user("audit_seller", "Sales")
    customer = CustomerFactory(name="Old name", owner=seller)
    with acting_as(seller, via="web"):
        customer_update(customer=customer, name="New name", notes="VIP")
    last = entries_for(customer)[-1]
    assert last.action == AuditEntry.Action.UPDATE
    assert last.changes == {"name": ["Old name", "New name"], "notes": ["", "VIP"]}
    assert (last.actor_label, last.actor_ref) == ("audit_seller", str(seller.pk))
    assert last.customer_ref == str(customer.pk)


def test_create_service_records_the_new_values_of_the_customer_and_its_contacts():
    seller = create_user("audit_creator", "Sales")
    with acting_as(seller, via="web"):
        customer = customer_create(
            name="Zhang Wei", owner=seller, contact_methods=[{"kind": "mobile", "value": "13812345678"}]
        )
    created = AuditEntry.objects.filter(customer_ref=str(customer.pk), action=AuditEntry.Action.CREATE)
    labels = sorted(created.values_list("model_label", flat=True))
    assert labels == ["customers.ContactMethod", "customers.Customer"]
    contact = created.get(model_label="customers.ContactMethod")
    # Encrypted at rest, so masked in the trail (issue 13): never the clear number.
    assert contact.changes["value"] == [None, "138****5678"]
    assert "value_hash" not in contact.changes and "value_tail" not in contact.changes


def test_a_plain_save_and_a_delete_are_recorded_too():
    customer = CustomerFactory(name="Before")
    customer.name = "After"
    customer.save()
    pk = customer.pk
    customer.delete()
    trail = AuditEntry.objects.filter(object_id=str(pk)).order_by("at")
    actions = [(entry.action, entry.changes.get("name")) for entry in trail]
    assert actions == [
        ("create", [None, "Before"]),
        ("update", ["Before", "After"]),
        ("delete", ["After", None]),
    ]


def test_verify_audit_passes_on_an_intact_chain():
    for number in range(3):
        CustomerFactory(name=f"Intact {number}")
    seal_pending(batch=2)  # on MongoDB (no test transaction) each entry was sealed at once already
    verdict = verify_chain()
    assert (verdict.entries, verdict.pending, verdict.problem) == (3, 0, "")
    assert 2 <= verdict.seals <= 3
    call_command("verify_audit")


def _sealed_customers(count: int) -> list[Customer]:
    customers = [CustomerFactory(name=f"Sealed {n}") for n in range(count)]
    seal_pending(batch=2)
    return customers


def test_verify_audit_detects_an_edited_entry():
    customers = _sealed_customers(3)
    entry = entries_for(customers[1])[0]
    AuditEntry.objects.filter(pk=entry.pk).update(changes={"name": [None, "Someone else"]})
    seq = AuditSeal.objects.get(pk=entry.seal_id).seq
    assert verify_chain().problem == f"entry {entry.pk} of seal #{seq} was altered"
    with pytest.raises(CommandError, match="was altered"):
        call_command("verify_audit")


def test_verify_audit_detects_a_deleted_entry_and_a_deleted_seal():
    _sealed_customers(3)
    entry = AuditEntry.objects.get(seal__seq=2)
    AuditEntry.objects.filter(pk=entry.pk).delete()
    assert verify_chain().problem == f"entry {entry.pk} of seal #2 was deleted"
    AuditEntry.objects.filter(
        pk__in=list(AuditEntry.objects.filter(seal__seq=1).values_list("pk", flat=True))
    ).delete()
    AuditSeal.objects.filter(seq=1).delete()
    assert verify_chain().problem == "seal #1 is missing (next found: #2)"


def test_verify_audit_detects_two_entries_swapped():
    first, second = (entries_for(customer)[0] for customer in _sealed_customers(2))
    AuditEntry.objects.filter(pk=first.pk).update(at=second.at, changes=second.changes)
    AuditEntry.objects.filter(pk=second.pk).update(at=first.at, changes=first.changes)
    assert "was altered" in verify_chain().problem


def test_verify_audit_detects_reordered_seals():
    _sealed_customers(4)
    one, two = AuditSeal.objects.get(seq=1), AuditSeal.objects.get(seq=2)
    AuditSeal.objects.filter(pk=one.pk).update(seq=100)
    AuditSeal.objects.filter(pk=two.pk).update(seq=1)
    AuditSeal.objects.filter(pk=one.pk).update(seq=2)
    assert verify_chain().problem == "seal #1 does not follow seal #0"


def test_verify_audit_reports_an_entry_written_outside_the_application():
    import datetime

    from django.utils import timezone

    _sealed_customers(1)
    planted = AuditEntry.objects.create(
        at=timezone.now() - datetime.timedelta(hours=2),
        action="update",
        object_repr="planted",
        digest="0" * 64,
    )
    assert verify_chain().problem.startswith(f"entry {planted.pk} (")
    assert verify_chain().problem.endswith("was never sealed")
