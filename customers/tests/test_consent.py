"""The consent ledger (issue 13): records are only added, the state follows the newest record."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from customers.models import ConsentPurpose, ConsentRecord, ConsentSource, ConsentState, Customer
from customers.selectors.consent import (
    consent_history,
    consenting_customer_filter,
    customer_consents,
    customer_ids_refusing,
)
from customers.services import customer_merge
from customers.services.consent import consent_record, consent_record_many
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
EMAIL = ConsentPurpose.MARKETING_EMAIL
PROFILING = ConsentPurpose.PROFILING


def _state(customer, purpose):
    return ConsentState.objects.get(customer=customer, purpose=purpose)


def test_consent_record_appends_and_the_state_follows_the_newest(sales_user):
    customer = CustomerFactory(owner=sales_user)
    consent_record(
        customer=customer, purpose=EMAIL, granted=True, source=ConsentSource.WEB_FORM, notice_version="v1"
    )
    consent_record(customer=customer, purpose=EMAIL, granted=False, source=ConsentSource.UNSUBSCRIBE)
    assert ConsentRecord.objects.filter(customer=customer).count() == 2
    assert _state(customer, EMAIL).granted is False
    customer.refresh_from_db()
    assert customer.marketing_consent is False
    assert [r.granted for r in consent_history(customer=customer)] == [False, True]


def test_an_older_record_does_not_overwrite_the_state(sales_user):
    customer = CustomerFactory(owner=sales_user)
    consent_record(customer=customer, purpose=EMAIL, granted=True, source=ConsentSource.WEB_FORM)
    consent_record(
        customer=customer,
        purpose=EMAIL,
        granted=False,
        source=ConsentSource.PAPER,
        recorded_at=timezone.now() - timedelta(days=30),
    )
    assert ConsentRecord.objects.filter(customer=customer).count() == 2
    assert _state(customer, EMAIL).granted is True
    customer.refresh_from_db()
    assert customer.marketing_consent is True


def test_marketing_summary_is_true_while_any_channel_is_granted(sales_user):
    customer = CustomerFactory(owner=sales_user)
    consent_record(customer=customer, purpose=ConsentPurpose.MARKETING_SMS, granted=True, source="phone")
    consent_record(customer=customer, purpose=EMAIL, granted=False, source="email")
    customer.refresh_from_db()
    assert customer.marketing_consent is True
    assert customer.consent_channel == "email"


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("purpose", {"purpose": "spam"}),
        ("source", {"source": "hearsay"}),
        ("granted", {"granted": "yes"}),
        ("evidence", {"evidence": "x" * 501}),
        ("recorded_at", {"recorded_at": timezone.now() + timedelta(days=2)}),
    ],
)
def test_consent_record_names_the_bad_field_and_writes_nothing(sales_user, field, values):
    customer = CustomerFactory(owner=sales_user)
    data = {"purpose": EMAIL, "granted": True, "source": "staff", **values}
    with pytest.raises(ValidationError) as exc:
        consent_record(customer=customer, **data)
    assert field in exc.value.message_dict
    assert not ConsentRecord.objects.exists() and not ConsentState.objects.exists()


def test_defaults_marketing_opt_in_profiling_allowed_until_refused(sales_user):
    asked, silent = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    consent_record(customer=asked, purpose=PROFILING, granted=False, source="request")
    consent_record(customer=asked, purpose=EMAIL, granted=True, source="web_form")
    answers = {c.purpose: c.granted for c in customer_consents(customer=silent)}
    assert answers[EMAIL] is False and answers[PROFILING] is True
    assert answers[ConsentPurpose.CROSS_BORDER] is False and answers[ConsentPurpose.SENSITIVE_DATA] is False
    assert set(customer_ids_refusing(PROFILING).values_list("customer_id", flat=True)) == {asked.pk}
    profiled = set(
        Customer.objects.filter(consenting_customer_filter(PROFILING)).values_list("pk", flat=True)
    )
    assert asked.pk not in profiled and silent.pk in profiled
    mailed = set(Customer.objects.filter(consenting_customer_filter(EMAIL)).values_list("pk", flat=True))
    assert mailed == {asked.pk}


def test_bulk_records_name_the_row_and_write_nothing_on_error(sales_user):
    customer = CustomerFactory(owner=sales_user)
    good = {"customer_id": customer.pk, "purpose": EMAIL, "granted": True, "source": "import"}
    with pytest.raises(ValidationError) as exc:
        consent_record_many(entries=[good, {**good, "purpose": "nope"}])
    assert any("row 2" in key for key in exc.value.message_dict)
    assert not ConsentRecord.objects.exists()
    consent_record_many(entries=[good, {**good, "purpose": PROFILING, "granted": False}])
    assert _state(customer, PROFILING).granted is False


def test_withdraw_is_one_click_like_give(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    client.force_login(sales_user)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert reverse("customers:customer-consent-record", args=[customer.pk]) in page
    url = reverse("customers:customer-consent-record", args=[customer.pk])
    client.post(url, {"purpose": EMAIL, "granted": "yes", "source": "paper", "evidence": "scan 12"})
    assert _state(customer, EMAIL).granted is True
    assert "Withdraw" in client.get(customer.get_absolute_url()).content.decode()
    response = client.post(url, {"purpose": EMAIL, "granted": "no", "source": "staff"})
    assert response.status_code == 302
    assert _state(customer, EMAIL).granted is False
    records = list(consent_history(customer=customer))
    assert records[-1].evidence == "scan 12" and records[0].recorded_by == sales_user
    history = client.get(reverse("customers:customer-consent", args=[customer.pk])).content.decode()
    assert "scan 12" in history


def test_another_users_customer_is_404_and_unchanged(client, sales_user, other_sales_user):
    customer = CustomerFactory(owner=other_sales_user)
    client.force_login(sales_user)
    url = reverse("customers:customer-consent-record", args=[customer.pk])
    assert client.post(url, {"purpose": EMAIL, "granted": "yes", "source": "staff"}).status_code == 404
    assert client.get(reverse("customers:customer-consent", args=[customer.pk])).status_code == 404
    assert not ConsentRecord.objects.exists()


def test_customer_form_checkbox_writes_the_ledger(client, sales_user):
    customer = CustomerFactory(owner=sales_user, name="Form Consent")
    client.force_login(sales_user)
    data = {
        "kind": "person",
        "name": "Form Consent",
        "gender": "unknown",
        "lifecycle_stage": "customer",
        "source": "web",
        "marketing_consent": "on",
        "consent_channel": "paper",
        "consent_note": "signed at the shop",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("customers:customer-update", args=[customer.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    record = ConsentRecord.objects.get(customer=customer)
    assert (record.purpose, record.granted, record.source, record.note) == (
        EMAIL,
        True,
        "paper",
        "signed at the shop",
    )
    customer.refresh_from_db()
    assert customer.marketing_consent is True and customer.consent_channel == "paper"


def test_merge_moves_the_losers_ledger_and_the_newest_answer_wins(sales_user):
    survivor, loser = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    old = timezone.now() - timedelta(days=10)
    consent_record(customer=survivor, purpose=EMAIL, granted=True, source="web_form", recorded_at=old)
    consent_record(customer=loser, purpose=EMAIL, granted=False, source="unsubscribe")
    consent_record(customer=loser, purpose=PROFILING, granted=False, source="request")
    customer_merge(survivor=survivor, loser=loser, by=sales_user)
    assert ConsentRecord.objects.filter(customer=survivor).count() == 3
    assert _state(survivor, EMAIL).granted is False
    assert _state(survivor, PROFILING).granted is False
    survivor.refresh_from_db()
    assert survivor.marketing_consent is False


def test_admin_ledger_is_read_only(client, django_user_model):
    from django.contrib import admin

    record_admin = admin.site._registry[ConsentRecord]
    state_admin = admin.site._registry[ConsentState]
    for model_admin in (record_admin, state_admin):
        assert not model_admin.has_add_permission(None)
        assert not model_admin.has_change_permission(None)
        assert not model_admin.has_delete_permission(None)


def test_import_marketing_column_writes_ledger_records(sales_user, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers.services.imports import (
        customer_import_commit,
        customer_import_create,
        customer_import_set_mapping,
        customer_import_validate,
    )

    settings.MEDIA_ROOT = str(tmp_path)
    content = "external_id,name,marketing_consent\nK1,Yes Person,yes\nK2,No Person,no\nK3,Blank Person,\n"
    upload = SimpleUploadedFile("consent.csv", content.encode("utf-8"))
    job = customer_import_create(upload=upload, encoding="utf-8", user=sales_user)
    mapping = {target: target for target in job.headers if target}
    job = customer_import_validate(job=customer_import_set_mapping(job=job, mapping=mapping))
    customer_import_commit(job=job)
    yes, no, blank = (Customer.objects.get(external_id=key) for key in ("K1", "K2", "K3"))
    assert _state(yes, EMAIL).granted is True and _state(no, EMAIL).granted is False
    assert not ConsentState.objects.filter(customer=blank).exists()
    record = ConsentRecord.objects.get(customer=yes)
    assert record.source == ConsentSource.IMPORT and record.recorded_by == sales_user
    yes.refresh_from_db()
    assert yes.marketing_consent is True and yes.consent_channel == "import"
