"""The audit trail on every path that writes: imports, merges, the admin, exports, the History tab."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from crm_site.audit.models import AuditEntry, AuditSeal
from crm_site.audit.trail import acting_as, plain, seal_pending, verify_chain
from customers.models import Customer
from customers.services import customer_assign_owner, customer_update
from customers.services.imports import (
    customer_import_commit,
    customer_import_create,
    customer_import_set_mapping,
    customer_import_validate,
)
from customers.services.merge import customer_merge
from customers.tests.factories import ContactMethodFactory, CustomerFactory
from orders.tests.factories import SalesOrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _import(user, content: str):
    job = customer_import_create(
        upload=SimpleUploadedFile("people.csv", content.encode()), encoding="utf-8", user=user
    )
    job = customer_import_set_mapping(job=job, mapping={name: name for name in job.headers})
    return customer_import_commit(job=customer_import_validate(job=job))


def test_an_import_records_each_created_and_updated_customer_with_the_importer(sales_user):
    rows = "".join(f"EXT-{n},Person {n},13800000{n:03d}\n" for n in range(30))
    job = _import(sales_user, "external_id,name,mobile\n" + rows)
    assert job.status == job.Status.DONE
    imported = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, context__import=str(job.pk))
    assert imported.filter(model_label="customers.Customer").count() == 30
    first = imported.get(object_id=str(Customer.objects.get(external_id="EXT-1").pk))
    assert first.changes["name"] == [None, "Person 1"]
    assert first.changes["contact:mobile"] == [None, "138****0001"]  # masked (issue 13)
    assert set(imported.values_list("actor_label", flat=True)) == {sales_user.username}
    again = _import(sales_user, "external_id,name\nEXT-7,Renamed 7\n")
    customer = Customer.objects.get(external_id="EXT-7")
    entry = AuditEntry.objects.get(context__import=str(again.pk))
    assert (entry.object_id, entry.changes) == (str(customer.pk), {"name": ["Person 7", "Renamed 7"]})


def test_a_merge_records_the_loser_what_moved_and_the_survivors_changes(sales_user):
    survivor = CustomerFactory(name="Keep", owner=sales_user)
    loser = CustomerFactory(name="Drop", owner=sales_user, notes="From the loser")
    SalesOrderFactory(customer=loser)
    loser_pk = loser.pk
    customer_merge(survivor=survivor, loser=loser, by=sales_user)
    merged = AuditEntry.objects.get(action=AuditEntry.Action.MERGE)
    assert merged.object_id == str(survivor.pk) and merged.actor_label == sales_user.username
    assert merged.changes["merged_customer"][0] == f"Drop ({loser_pk})"
    assert merged.changes["moved"][1]["orders.SalesOrder.customer"] == 1
    deleted = AuditEntry.objects.get(action=AuditEntry.Action.DELETE, object_id=str(loser_pk))
    assert deleted.changes["name"] == ["Drop", None]
    changed = AuditEntry.objects.filter(action="update", object_id=str(survivor.pk)).latest("at")
    assert changed.changes["notes"][1].endswith("From the loser")


def test_a_bulk_owner_change_records_each_customer_old_and_new_owner(sales_user, other_sales_user):
    customers = [CustomerFactory(owner=sales_user) for _n in range(3)]
    with acting_as(other_sales_user, via="admin"):
        customer_assign_owner(customer_ids=[c.pk for c in customers], owner=other_sales_user)
    entries = AuditEntry.objects.filter(action="update", changes__has_key="owner_id")
    assert {e.object_id for e in entries} == {str(c.pk) for c in customers}
    assert all(e.changes["owner_id"] == plain([sales_user.pk, other_sales_user.pk]) for e in entries)


def test_an_admin_save_records_old_and_new_values_and_the_admin_path(client, manager_user):
    customer = CustomerFactory(name="Before admin", owner=manager_user)
    client.force_login(manager_user)
    url = reverse("admin:customers_contactmethod_add")
    response = client.post(
        url, {"customer": customer.pk, "kind": "email", "value": "admin@example.com", "label": ""}
    )
    assert response.status_code in (200, 302)
    contact = ContactMethodFactory(customer=customer, kind="email", value="old@example.com")
    change = reverse("admin:customers_contactmethod_change", args=[contact.pk])
    form = client.get(change).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(value="new@example.com", customer=customer.pk)
    response = client.post(change, {k: v for k, v in data.items() if v is not False})
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.filter(object_id=str(contact.pk), action="update").get()
    assert entry.changes["value"] == ["o***@example.com", "n***@example.com"]  # masked: encrypted at rest
    assert entry.actor_label == manager_user.username and entry.context["via"] == "admin"
    history = client.get(reverse("admin:customers_contactmethod_history", args=[contact.pk]))
    assert b"n***@example.com" in history.content and b"o***@example.com" in history.content


def test_the_admin_refuses_to_add_change_or_delete_trail_rows_even_for_a_superuser(client, django_user_model):
    root = django_user_model.objects.create_superuser("audit_root", "root@example.com", "pw-root-123456")
    CustomerFactory(name="Someone")
    entry = AuditEntry.objects.first()
    client.force_login(root)
    assert client.get(reverse("admin:crm_site_auditentry_add")).status_code == 403
    assert client.get(reverse("admin:crm_site_auditentry_delete", args=[entry.pk])).status_code == 403
    page = client.get(reverse("admin:crm_site_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    client.post(reverse("admin:crm_site_auditentry_change", args=[entry.pk]), {"object_repr": "forged"})
    entry.refresh_from_db()
    assert entry.object_repr != "forged"
    listing = client.post(
        reverse("admin:crm_site_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert listing.status_code in (200, 302) and AuditEntry.objects.filter(pk=entry.pk).exists()


def test_an_export_records_who_downloaded_which_list(client, sales_user):
    CustomerFactory(name="Exported", owner=sales_user)
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-export", args=["csv"]), {"q": "Export"})
    assert list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))[1]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.actor_label == sales_user.username
    assert entry.context["query"] == "q=Export" and entry.context["path"].endswith("export.csv")
    assert entry.object_repr.endswith(".csv")


def test_the_history_tab_shows_changes_to_whoever_sees_the_customer_and_404s_for_others(
    client, sales_user, other_sales_user
):
    customer = CustomerFactory(name="History Subject", owner=sales_user)
    with acting_as(sales_user, via="web"):
        customer_update(customer=customer, job_title="Buyer")
    url = reverse("audit-history", args=["customer", customer.pk])
    client.force_login(sales_user)
    page = client.get(url)
    assert page.status_code == 200 and "Buyer" in page.content.decode()
    assert url in client.get(customer.get_absolute_url()).content.decode()
    client.force_login(other_sales_user)
    assert client.get(url).status_code == 404


def test_the_history_tab_pages_by_keyset(client, sales_user):
    customer = CustomerFactory(name="Many changes", owner=sales_user)
    for number in range(30):
        customer_update(customer=customer, notes=f"note {number:02d}")
    client.force_login(sales_user)
    url = reverse("audit-history", args=["customer", customer.pk])
    first = client.get(url).context["page"]
    assert len(first.rows) == 25 and first.next_cursor
    second = client.get(url, {"cursor": first.next_cursor}).context["page"]
    assert len(second.rows) == 6 and {e.pk for e in first.rows}.isdisjoint(e.pk for e in second.rows)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_keep_one_valid_chain():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("threads cannot share an in-memory SQLite database")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for number in range(10):
                CustomerFactory(name=f"Writer {worker}-{number}")
                seal_pending(batch=3)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seal_pending()
    verdict = verify_chain()
    assert (verdict.problem, verdict.pending) == ("", 0)
    assert verdict.entries == AuditEntry.objects.count() >= 40
    seqs = list(AuditSeal.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_an_admin_action_records_each_customer_it_changed(client, manager_user, sales_user):
    customers = [CustomerFactory(owner=sales_user) for _n in range(2)]
    client.force_login(manager_user)
    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "assign_to_me", "_selected_action": [str(c.pk) for c in customers]},
    )
    assert response.status_code == 302
    entries = AuditEntry.objects.filter(action="update", changes__has_key="owner_id")
    assert {e.object_id for e in entries} == {str(c.pk) for c in customers}
    assert {(e.actor_label, e.context["via"]) for e in entries} == {(manager_user.username, "admin")}
