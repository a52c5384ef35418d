"""Consent gaps of issue 13: the old marketing-consent service writes through the ledger, and the
customer import takes optional ``consent_<purpose>`` columns (yes/no) into the ledger."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import (
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    Customer,
    CustomerImport,
)
from customers.selectors.consent import customer_consents_to
from customers.services import customer_set_consent
from customers.services.imports import (
    customer_import_commit,
    customer_import_create,
    customer_import_set_mapping,
    customer_import_validate,
)
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
EMAIL, SMS, PROFILING = ConsentPurpose.MARKETING_EMAIL, ConsentPurpose.MARKETING_SMS, ConsentPurpose.PROFILING


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_customer_set_consent_writes_the_ledger(sales_user):
    customer = CustomerFactory(owner=sales_user)
    at = datetime(2025, 3, 1, tzinfo=UTC)
    customer_set_consent(
        customer=customer, consent=True, channel="paper", note="signed", at=at, by=sales_user
    )
    record = ConsentRecord.objects.get(customer=customer)
    assert (record.purpose, record.granted, record.source, record.note, record.recorded_at) == (
        EMAIL,
        True,
        ConsentSource.PAPER,
        "signed",
        at,
    )
    assert record.recorded_by == sales_user
    customer.refresh_from_db()
    assert customer.marketing_consent and customer.consent_channel == "paper"


def test_customer_set_consent_withdrawal_withdraws_every_granted_channel(sales_user):
    from customers.services.consent import consent_record

    customer = CustomerFactory(owner=sales_user)
    for purpose in (EMAIL, SMS):
        consent_record(customer=customer, purpose=purpose, granted=True, source=ConsentSource.WEB_FORM)
    customer_set_consent(customer=customer, consent=False, channel="phone")
    assert not ConsentState.objects.filter(customer=customer, granted=True).exists()
    assert ConsentRecord.objects.filter(customer=customer, granted=False, source="phone").count() == 2
    customer.refresh_from_db()
    assert customer.marketing_consent is False


def _import(user, content):
    job = customer_import_create(
        upload=SimpleUploadedFile("c.csv", content.encode()), encoding="utf-8-sig", user=user
    )
    job = customer_import_set_mapping(job=job, mapping={header: header for header in job.headers if header})
    return customer_import_validate(job=job)


def test_import_writes_consent_columns_to_the_ledger(sales_user):
    job = _import(
        sales_user,
        "external_id,name,consent_profiling,consent_marketing_sms,marketing_consent\n"
        "A1,Wang,no,yes,yes\nA2,Li,,否,\nA3,Zhao,yes,,\n",
    )
    assert job.status == CustomerImport.Status.VALID, job.errors
    assert customer_import_commit(job=job).status == CustomerImport.Status.DONE
    a1, a2, a3 = (Customer.objects.get(external_id=key) for key in ("A1", "A2", "A3"))
    assert not customer_consents_to(customer_id=a1.pk, purpose=PROFILING)
    assert customer_consents_to(customer_id=a1.pk, purpose=SMS)
    assert customer_consents_to(customer_id=a1.pk, purpose=EMAIL)
    assert not customer_consents_to(customer_id=a2.pk, purpose=SMS)
    assert customer_consents_to(customer_id=a3.pk, purpose=PROFILING)
    records = ConsentRecord.objects.filter(customer__in=[a1, a2, a3])
    assert {r.source for r in records} == {ConsentSource.IMPORT}
    assert sorted((r.customer.external_id, r.purpose, r.granted) for r in records) == [
        ("A1", EMAIL, True),
        ("A1", SMS, True),
        ("A1", PROFILING, False),
        ("A2", SMS, False),
        ("A3", PROFILING, True),
    ]
    assert all(r.note == "c.csv" and r.recorded_by == sales_user for r in records)


def test_import_refuses_a_consent_cell_that_is_not_yes_or_no_and_writes_nothing(sales_user):
    job = _import(sales_user, "external_id,name,consent_profiling\nB1,Wang,yes\nB2,Li,maybe\n")
    assert job.status == CustomerImport.Status.INVALID
    assert job.errors == [{"row": 3, "field": "consent_profiling", "message": "maybe is not yes or no."}]
    assert not Customer.objects.filter(external_id__in=["B1", "B2"]).exists()
    assert not ConsentRecord.objects.exists()


def test_import_mapping_guesses_the_consent_columns(sales_user):
    from customers.importing import TARGETS, guess_mapping

    mapping = guess_mapping(["name", "consent_cross_border", "Consent_Sensitive_Data"], TARGETS)
    assert mapping["consent_cross_border"] == "consent_cross_border"
    assert mapping["consent_sensitive_data"] == "Consent_Sensitive_Data"
