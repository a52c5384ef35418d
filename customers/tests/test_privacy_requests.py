"""Data-subject requests (issue 13): export, erasure, suppression, the audit chain after an erasure."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from crm_site.audit.models import AuditEntry
from crm_site.audit.trail import seal_pending, verify_chain
from crm_site.personal_data import personal_data
from customers.models import ConsentPurpose, ConsentState, Customer, DataSubjectRequest, Suppression
from customers.selectors.privacy import suppressed
from customers.services import customer_create
from customers.services.consent import consent_record
from customers.services.privacy import dsr_complete, dsr_create, dsr_erase, dsr_export, dsr_refuse
from customers.tests.factories import CustomerFactory, TagFactory
from orders.models import SalesOrder, ServiceOrder
from orders.tests.factories import (
    OpportunityFactory,
    OrderLineFactory,
    ProjectFactory,
    SalesOrderFactory,
    ServiceOrderFactory,
)
from profiles.models import CustomerProfile, Event
from profiles.tests.factories import EventFactory, ProfileRunFactory
from sessions_log.models import Attachment, FollowUp, Interaction

pytestmark = pytest.mark.django_db

NAME = "Qiao Xiaoling 乔晓玲"
PHONE = "+86 138 5555 0199"
PHONE_DIGITS = "13855550199"
EMAIL = "qiao.xiaoling@example.org"
ID_NUMBER = "11010519900307123X"
SECRETS = (NAME, "Qiao Xiaoling", PHONE, PHONE_DIGITS, EMAIL, ID_NUMBER)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def person(sales_user, media):
    """A customer with something in every app, their personal values in the free text too."""
    customer = customer_create(
        name=NAME,
        owner=sales_user,
        id_number=ID_NUMBER,
        external_id="EXT-QIAO",
        notes=f"Call {NAME} on {PHONE}",
        contact_methods=[{"kind": "mobile", "value": PHONE}, {"kind": "email", "value": EMAIL}],
        addresses=[{"street": "淮海中路 99 号", "city": "上海市"}],
    )
    customer.tags.add(TagFactory(name="VIP"))
    consent_record(customer=customer, purpose=ConsentPurpose.MARKETING_EMAIL, granted=True, source="web_form",
                   note=f"form signed by {NAME}")  # fmt: skip
    order = SalesOrderFactory(customer=customer, owner=sales_user, notes=f"deliver to {NAME}, {PHONE}")
    OrderLineFactory(order=order, quantity=2, unit_price=Decimal("50.00"), description=f"gift for {EMAIL}")
    order.refresh_from_db()
    order.notes = f"deliver to {NAME}, {PHONE} (changed)"
    order.save()  # an audited change with the old and new text
    ServiceOrderFactory(customer=customer, subject=f"{NAME} printer", description=EMAIL,
                        status=ServiceOrder.Status.CLOSED, resolution=f"called {PHONE}")  # fmt: skip
    ProjectFactory(customer=customer, name=f"{NAME} kitchen")
    OpportunityFactory(customer=customer, name=f"{NAME} upsell")
    interaction = Interaction.objects.create(customer=customer, channel="email", subject=f"Hi {NAME}",
                                             body=f"Reach me at {PHONE}", counterpart=EMAIL, email_to=EMAIL,
                                             staff=sales_user)  # fmt: skip
    Attachment.objects.create(interaction=interaction, name="id-card.pdf", content_type="application/pdf",
                              size=9, file=SimpleUploadedFile("id-card.pdf", b"%PDF-1.4\n"))  # fmt: skip
    FollowUp.objects.create(customer=customer, interaction=interaction, title=f"Call {NAME} back",
                            due_at=timezone.now() + timedelta(days=1), created_by=sales_user)  # fmt: skip
    EventFactory(customer=customer, properties={"email": EMAIL})
    CustomerProfile.objects.create(run=ProfileRunFactory(), customer=customer, computed_at=timezone.now())
    return customer


def _request(customer, user, kind=DataSubjectRequest.Kind.ERASURE, law="pipl"):
    return dsr_create(customer=customer, kind=kind, law=law, received_via="email",
                      details=f"I am {NAME}, erase me", user=user)  # fmt: skip


def test_due_date_follows_the_law_setting(person, manager_user, settings):
    pipl = _request(person, manager_user, law="pipl")
    gdpr = _request(person, manager_user, law="gdpr")
    assert pipl.due_at - pipl.received_at == timedelta(days=15)
    assert gdpr.due_at - gdpr.received_at == timedelta(days=30)
    settings.CRM_DSR_DUE_DAYS = {"pipl": 10, "gdpr": 20}
    assert _request(person, manager_user).due_at - timezone.now() < timedelta(days=10, seconds=5)


def test_export_is_one_zip_with_every_section(person, manager_user):
    request = dsr_export(request=_request(person, manager_user, kind="access"), user=manager_user)
    archive = zipfile.ZipFile(io.BytesIO(request.archive.read()))
    data = json.loads(archive.read("data.json"))
    expected = {
        "customer", "contact_methods", "addresses", "tags", "relationships", "consents", "merges",
        "sales_orders", "order_lines", "service_tickets", "projects", "milestones", "opportunities",
        "interactions", "attachments", "follow_ups", "inbox_items", "events", "profiles", "profile_changes",
    }  # fmt: skip
    assert set(data) == expected
    assert {f"{name}.csv" for name in expected} | {"data.json"} == set(archive.namelist())
    assert data["customer"][0]["name"] == NAME
    assert {row["value"] for row in data["contact_methods"]} == {PHONE, EMAIL}
    assert data["sales_orders"][0]["total"] == "100.00"
    assert PHONE in archive.read("interactions.csv").decode("utf-8-sig")
    assert request.status == DataSubjectRequest.Status.IN_PROGRESS
    assert AuditEntry.objects.filter(action="export", object_repr=f"data-request-{request.pk}.zip").exists()
    assert dsr_complete(request=request, user=manager_user).status == DataSubjectRequest.Status.COMPLETED


def _text_fields(model):
    return [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField, models.JSONField))
    ]


def _leaks():
    """Every text, char and JSON value of every model of every app holding one of the secrets."""
    found = []
    for model in apps.get_models():
        names = _text_fields(model)
        if not names:
            continue
        for row in model._base_manager.values_list("pk", *names):
            for name, value in zip(names, row[1:], strict=True):
                text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                for secret in SECRETS:
                    if text and secret.lower() in text.lower():
                        found.append(f"{model._meta.label}.{name} ({row[0]}): {secret}")
    return found


def test_erasure_leaves_no_personal_value_anywhere(
    person, manager_user, media, django_capture_on_commit_callbacks
):
    access = dsr_export(request=_request(person, manager_user, kind="access"), user=manager_user)
    archive_path = Path(access.archive.path)
    request = _request(person, manager_user)
    seal_pending()
    assert _leaks()  # the scan sees them before
    file_path = Path(Attachment.objects.get().file.path)
    assert file_path.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the erasure commits
        dsr_erase(request=request, user=manager_user)
    seal_pending()
    assert _leaks() == []
    customer = Customer.objects.get(pk=person.pk)
    assert customer.name == f"Erased customer {str(person.pk)[:8]}"
    assert customer.external_id is None and customer.id_number == "" and customer.notes == ""
    assert not customer.contact_methods.exists() and not customer.addresses.exists()
    # Accounting keeps the order, its amounts and lines.
    order = SalesOrder.objects.get(customer=customer)
    assert order.total == Decimal("100.00") and order.lines.get().quantity == 2
    assert not Attachment.objects.exists() and not file_path.exists()
    assert not archive_path.exists() and not DataSubjectRequest.objects.get(pk=access.pk).archive
    assert not FollowUp.objects.exists() and not Event.objects.exists()
    assert not CustomerProfile.objects.exists()
    assert not ConsentState.objects.filter(customer=customer, granted=True).exists()
    assert ConsentState.objects.get(customer=customer, purpose=ConsentPurpose.PROFILING).granted is False
    assert Interaction.objects.get().channel == "email"
    # The suppression list holds hashes of the phone, the email, the external id and the ID number.
    assert set(Suppression.objects.values_list("kind", flat=True)) == set(Suppression.Kind.values) - {
        "handle"
    }  # no WeChat/QQ/Weibo id here
    assert suppressed("phone", "138-5555-0199") and suppressed("email", EMAIL.upper())
    erasures = AuditEntry.objects.filter(
        model_label="customers.DataSubjectRequest", object_id=str(request.pk)
    )
    assert erasures.count() == 1


def test_the_audit_chain_verifies_after_an_erasure(person, manager_user):
    request = _request(person, manager_user)
    seal_pending()
    assert verify_chain().problem == ""
    dsr_erase(request=request, user=manager_user)
    seal_pending()
    assert verify_chain().problem == ""
    call_command("verify_audit", stdout=io.StringIO())  # raises CommandError if broken
    assert AuditEntry.objects.filter(customer_ref=str(person.pk), object_repr="[erased]").exists()


def test_erasure_twice_finds_nothing_the_second_time(person, manager_user):
    request = dsr_erase(request=_request(person, manager_user), user=manager_user)
    seal_pending()
    suppressions = Suppression.objects.count()
    request = dsr_erase(request=request, user=manager_user)
    seal_pending()
    second = request.outcome["erased"][-1]["counts"]
    assert all(count == 0 for key, counts in second.items() if key != "audit" for count in counts.values())
    assert Suppression.objects.count() == suppressions
    assert verify_chain().problem == ""
    assert _leaks() == []


def test_erasure_waits_for_open_tickets(person, manager_user):
    ServiceOrderFactory(customer=person, number="SR-OPEN-1", status=ServiceOrder.Status.IN_PROGRESS)
    with pytest.raises(ValidationError, match="SR-OPEN-1"):
        dsr_erase(request=_request(person, manager_user), user=manager_user)
    assert Customer.objects.get(pk=person.pk).name == NAME


def test_rules_refuse_complete_and_kind(person, manager_user):
    access = _request(person, manager_user, kind="access")
    with pytest.raises(ValidationError, match="Only an erasure"):
        dsr_erase(request=access, user=manager_user)
    with pytest.raises(ValidationError, match="export first"):
        dsr_complete(request=access, user=manager_user)
    with pytest.raises(ValidationError, match="why"):
        dsr_refuse(request=access, reason="  ", user=manager_user)
    refused = dsr_refuse(request=access, reason="Identity not proven", user=manager_user)
    assert refused.status == DataSubjectRequest.Status.REFUSED and refused.completed_at
    with pytest.raises(ValidationError, match="nothing more"):
        dsr_export(request=refused, user=manager_user)


def test_export_after_erasure_is_refused(person, manager_user):
    dsr_erase(request=_request(person, manager_user), user=manager_user)
    with pytest.raises(ValidationError, match="nothing left"):
        dsr_export(request=_request(person, manager_user, kind="access"), user=manager_user)


def test_every_app_has_a_handler():
    assert {handler.key for handler in personal_data.handlers()} >= {
        "customers",
        "orders",
        "sessions_log",
        "profiles",
    }
    assert [handler.key for handler in personal_data.erasure_order()][-1] == "customers"


# ------------------------------------------------------------------------------------------------ suppression


@pytest.fixture
def erased(person, manager_user):
    dsr_erase(request=_request(person, manager_user), user=manager_user)
    return person


def test_create_refuses_a_suppressed_phone_or_email(erased, sales_user):
    with pytest.raises(ValidationError, match="cannot be used") as caught:
        customer_create(name="Someone", owner=sales_user, contact_methods=[{"kind": "phone", "value": PHONE}])
    assert NAME not in str(caught.value)
    with pytest.raises(ValidationError, match="cannot be used"):
        customer_create(name="Someone", owner=sales_user, contact_methods=[{"kind": "email", "value": EMAIL}])
    with pytest.raises(ValidationError, match="cannot be used"):
        customer_create(name="Someone", owner=sales_user, id_number=ID_NUMBER.lower())
    assert customer_create(name="Someone else", owner=sales_user, external_id="EXT-NEW").pk


def test_customer_import_refuses_a_suppressed_row(erased, sales_user, media):
    from customers.services.imports import (
        customer_import_create,
        customer_import_set_mapping,
        customer_import_validate,
    )

    body = f"name,mobile,email\nNew One,{PHONE},\nNew Two,,{EMAIL}\nFine Three,13900001111,\n".encode()
    job = customer_import_create(upload=SimpleUploadedFile("c.csv", body, "text/csv"), encoding="utf-8",
                                 user=sales_user)  # fmt: skip
    job = customer_import_set_mapping(job=job, mapping={"name": "name", "mobile": "mobile", "email": "email"})
    job = customer_import_validate(job=job)
    assert job.error_count == 2
    assert {(error["row"], error["field"]) for error in job.errors} == {(2, "mobile"), (3, "email")}
    assert all(error["message"] == "This value cannot be used." for error in job.errors)


def test_orders_import_refuses_to_recreate_a_suppressed_customer(erased, sales_user):
    from orders.services.imports import orders_import
    from orders.tests.factories import ProductCategoryFactory

    ProductCategoryFactory(code="misc", name="Misc")
    names = ["customer_external_id", "customer_name", "order_number", "order_date", "category", "quantity",
             "amount"]  # fmt: skip
    values = ["EXT-QIAO", "Qiao", "SO-NEW-1", "2026-01-05", "misc", "1", "10.00"]

    def rows():
        yield 2, dict(zip(names, values, strict=True))

    result = orders_import(rows=rows, user=sales_user, dry_run=True, create_customers=True)
    messages = [error["message"] for error in result.errors]
    assert any("EXT-QIAO" in message and "cannot be used" in message for message in messages), messages
    assert not Customer.objects.filter(external_id="EXT-QIAO").exists()


# ------------------------------------------------------------------------------------------------ pages


def test_manager_walks_a_request_through_the_pages(client, person, manager_user, media):
    from django.urls import reverse

    client.force_login(manager_user)
    page = client.get(reverse("customers:customer-detail", args=[person.pk]))
    assert reverse("customers:privacy-request-create") in page.content.decode()
    answer = client.post(
        reverse("customers:privacy-request-create"),
        {"customer": NAME, "customer_id": str(person.pk), "kind": "erasure", "law": "gdpr",
         "received_via": "email", "details": ""},
    )  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:2000]
    request = DataSubjectRequest.objects.get(customer=person)
    assert request.due_at - request.received_at == timedelta(days=30)
    detail = reverse("customers:privacy-request-detail", args=[request.pk])
    assert answer["Location"] == detail
    assert client.get(detail).status_code == 200
    erase = reverse("customers:privacy-request-erase", args=[request.pk])
    assert "erased for good" in client.get(erase).content.decode()
    assert client.post(erase, {}).status_code == 200  # the box not ticked: nothing erased
    assert Customer.objects.get(pk=person.pk).name == NAME
    assert client.post(erase, {"confirm": "on"})["Location"] == detail
    assert Customer.objects.get(pk=person.pk).name.startswith("Erased customer")
    client.post(reverse("customers:privacy-request-complete", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.COMPLETED


def test_export_download_and_refusal_pages(client, person, manager_user, media):
    from django.urls import reverse

    client.force_login(manager_user)
    request = _request(person, manager_user, kind="portability")
    download = reverse("customers:privacy-request-download", args=[request.pk])
    assert client.get(download).status_code == 404  # no archive yet
    client.post(reverse("customers:privacy-request-export", args=[request.pk]))
    answer = client.get(download)
    assert answer.status_code == 200
    assert "data.json" in zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content))).namelist()
    other = _request(person, manager_user, kind="objection")
    refuse = reverse("customers:privacy-request-refuse", args=[other.pk])
    client.post(refuse, {"reason": ""})
    other.refresh_from_db()
    assert other.status == DataSubjectRequest.Status.RECEIVED
    client.post(refuse, {"reason": "Not the account holder"})
    other.refresh_from_db()
    assert other.status == DataSubjectRequest.Status.REFUSED


def test_list_filters_by_status_and_marks_overdue(client, person, manager_user):
    from django.urls import reverse

    client.force_login(manager_user)
    late = _request(person, manager_user, kind="access")
    DataSubjectRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    dsr_refuse(request=_request(person, manager_user, kind="correction"), reason="No", user=manager_user)
    page = client.get(reverse("customers:privacy-request-list"), {"status": "open"}).content.decode()
    assert "table-danger" in page and "overdue" in page
    assert "Correction" not in page
    refused = client.get(reverse("customers:privacy-request-list"), {"status": "refused"}).content.decode()
    assert "Correction" in refused and "table-danger" not in refused


def test_sales_cannot_open_the_pages(client, person, sales_user, manager_user):
    from django.urls import reverse

    client.force_login(sales_user)
    request = _request(person, manager_user)
    assert client.get(reverse("customers:privacy-request-list")).status_code == 403
    assert client.get(reverse("customers:privacy-request-detail", args=[request.pk])).status_code == 403
    assert (
        client.post(
            reverse("customers:privacy-request-erase", args=[request.pk]), {"confirm": "on"}
        ).status_code
        == 403
    )
    page = client.get(reverse("customers:customer-detail", args=[person.pk])).content.decode()
    assert reverse("customers:privacy-request-create") not in page
    assert reverse("customers:privacy-request-list") not in page


def test_query_counts_of_the_pages(client, manager_user, sales_user):
    from django.urls import reverse

    from crm_site.testing import assert_query_counts

    client.force_login(manager_user)
    made: list[DataSubjectRequest] = []

    def grow(k):
        for _n in range(k):
            customer = CustomerFactory(owner=sales_user)
            made.append(_request(customer, manager_user, kind="access"))

    assert_query_counts(
        {
            "customers:privacy-request-list": lambda: client.get(reverse("customers:privacy-request-list")),
            "customers:privacy-request-detail": lambda: client.get(
                reverse("customers:privacy-request-detail", args=[made[0].pk])
            ),
        },
        grow=grow,
    )


def test_a_short_name_in_an_orders_free_text_leaves_the_audit_trail(sales_user, manager_user):
    customer = customer_create(name="王五", owner=sales_user)
    order = SalesOrderFactory(customer=customer, owner=sales_user, notes="")
    order.notes = "王五 collects in person"
    order.save()
    seal_pending()
    dsr_erase(request=_request(customer, manager_user), user=manager_user)
    seal_pending()
    changes = AuditEntry.objects.get(model_label="orders.SalesOrder", action="update").changes
    assert changes["notes"] == ["", "[erased]"]
    assert "王五" not in json.dumps(
        list(AuditEntry.objects.values_list("changes", "object_repr")), ensure_ascii=False
    )
    assert verify_chain().problem == ""


def test_new_request_form_takes_the_customer_from_the_link(client, person, manager_user):
    from django.urls import reverse

    client.force_login(manager_user)
    url = reverse("customers:privacy-request-create")
    page = client.get(url, {"customer": str(person.pk)}).content.decode()
    assert f'value="{person.pk}"' in page
    assert client.get(url, {"customer": "not-a-uuid"}).status_code == 200


def test_a_suppressed_phone_cannot_be_added_to_another_customer(erased, sales_user, media):
    from customers.services import contact_method_save
    from customers.services.imports import (
        customer_import_create,
        customer_import_set_mapping,
        customer_import_validate,
    )

    other = customer_create(name="Household member", owner=sales_user, external_id="EXT-HOUSE")
    with pytest.raises(ValidationError, match="cannot be used"):
        contact_method_save(customer=other, kind="mobile", value="0086 13855550199")
    assert contact_method_save(customer=other, kind="mobile", value="13900002222") is not None
    body = f"external_id,name,email\nEXT-HOUSE,Household member,{EMAIL}\n".encode()
    job = customer_import_create(upload=SimpleUploadedFile("h.csv", body, "text/csv"), encoding="utf-8",
                                 user=sales_user)  # fmt: skip
    job = customer_import_set_mapping(job=job, mapping={"external_id": "external_id", "name": "name",
                                                        "email": "email"})  # fmt: skip
    job = customer_import_validate(job=job)
    assert [(error["row"], error["field"]) for error in job.errors] == [(2, "email")]
