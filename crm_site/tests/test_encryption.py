"""Personal data encrypted at rest (issue 13; docs/security.md "Encryption at rest").

What the database holds (read past the ORM: a raw cursor on SQL, the collection on MongoDB), that exact
search, duplicate detection and matching mail to a customer still work through the blind index, that a
token no key opens shows a marker instead of breaking the page, that SQL lookups on an encrypted field
are refused, and ``manage.py rotate_keys`` (two keys, and a restart after an interruption).
"""

from __future__ import annotations

import datetime
import io

import pytest
from cryptography.fernet import Fernet
from django.core import checks
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.models import TextField, Value
from django.test import override_settings

from crm_site.checks import check_personal_data_keys
from crm_site.crypto import ring_keys
from crm_site.fields import KEYS_PURPOSE, KEYS_SETTING, UNREADABLE_TEXT, Unreadable, is_current_token
from crm_site.key_rotation import rotate_model
from customers.models import Address, ContactMethod, Customer
from customers.normalize import contact_hash, gram_hash
from customers.selectors import contact_owners_by_value, customer_choices, customer_list, duplicate_groups
from customers.tests.factories import AddressFactory, ContactMethodFactory, CustomerFactory

pytestmark = pytest.mark.django_db

PHONE, EMAIL = "+86 138-0013-8000", "Amelia.Hall@Example.com"


def stored(model, column: str) -> list[str]:
    """The values of ``column`` as the database holds them (no field decrypts them)."""
    table = model._meta.db_table
    if connection.vendor == "mongodb":
        return [doc.get(column) for doc in connection.database[table].find({}, {column: 1})]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)}")
        return [row[0] for row in cursor.fetchall()]


def put_raw(model, pk, **values: str) -> None:
    """Write stored tokens as they are (an expression: the field does not encrypt it again)."""
    model.objects.filter(pk=pk).update(
        **{name: Value(value, output_field=TextField()) for name, value in values.items()}
    )


@pytest.fixture
def amelia(sales_user):
    customer = CustomerFactory(
        name="Amelia Hall",
        owner=sales_user,
        birth_date=datetime.date(1990, 5, 17),
        id_number="11010519900517001X",
    )
    ContactMethodFactory(customer=customer, kind="mobile", value=PHONE, is_primary=True)
    ContactMethodFactory(customer=customer, kind="email", value=EMAIL)
    AddressFactory(customer=customer, street="世纪大道 100 号", postal_code="200120")
    return customer


def test_the_database_holds_no_clear_personal_value(amelia):
    raw = [
        *stored(ContactMethod, "value"),
        *stored(Customer, "birth_date"),
        *stored(Customer, "id_number"),
        *stored(Address, "street"),
        *stored(Address, "postal_code"),
    ]
    assert raw and all(str(value).startswith("gAAAAA") for value in raw)
    dump = " ".join(str(value) for value in raw)
    for clear in (
        "13800138000",
        "0013",
        "amelia.hall@example.com",
        "1990",
        "11010519900517001X",
        "世纪",
        "200120",
    ):
        assert clear not in dump
    # The blind index is a keyed hash, not the normalised value; the phone's digit runs are hashes too;
    # the email's local part is the one clear part (the start-of-address search).
    hashes = stored(ContactMethod, "value_hash")
    assert contact_hash("13800138000") in hashes and "13800138000" not in hashes
    assert sorted(stored(ContactMethod, "value_tail")) == ["", "amelia.hall"]
    grams = " ".join(stored(ContactMethod, "value_grams"))
    assert gram_hash("0013") in grams and not any(run in grams for run in ("1380", "0013", "8000"))
    # Python code sees the clear values.
    amelia.refresh_from_db()
    assert amelia.birth_date == datetime.date(1990, 5, 17) and amelia.id_number == "11010519900517001X"
    assert {c.value for c in amelia.contact_methods.all()} == {PHONE, EMAIL}
    assert amelia.addresses.get().postal_code == "200120"


@pytest.mark.parametrize(
    "query",
    ["13800138000", "+86 138 0013 8000", "amelia.hall@example.com", EMAIL, "8000", "8001", "80013", "amelia"],
)
def test_search_by_full_phone_and_email_still_finds(sales_user, amelia, query):
    assert [choice.pk for choice in customer_choices(user=sales_user, query=query)] == [amelia.pk]
    assert list(customer_list(user=sales_user, filters={"q": query}).values_list("pk", flat=True)) == [
        amelia.pk
    ]


def test_duplicates_and_mail_matching_go_through_the_blind_index(sales_user, amelia):
    again = CustomerFactory(name="A. Hall", owner=sales_user)
    ContactMethodFactory(customer=again, kind="mobile", value="13800138000")
    (group,) = duplicate_groups(user=sales_user)
    assert {c.pk for c in group["customers"]} == {amelia.pk, again.pk}
    assert group["value"] in {PHONE, "13800138000"}  # a decrypted spelling, never a hash
    owners = contact_owners_by_value(kind="email", value="AMELIA.HALL@example.com")
    assert [owner.customer_id for owner in owners] == [amelia.pk]


def test_sql_lookups_on_an_encrypted_field_are_refused_at_query_build_time(amelia):
    for lookup in ({"value": PHONE}, {"value__icontains": "138"}, {"value__startswith": "1"}):
        with pytest.raises(FieldError, match="ContactMethod.value is encrypted"):
            ContactMethod.objects.filter(**lookup)
    with pytest.raises(FieldError, match="Customer.birth_date is encrypted"):
        Customer.objects.filter(birth_date__year=1990)
    assert Customer.objects.filter(birth_date__isnull=False).count() == 1  # isnull runs in the database


def test_an_unreadable_token_shows_a_marker_and_the_page_still_answers(client, sales_user, amelia):
    foreign = Fernet(Fernet.generate_key())
    phone = amelia.contact_methods.get(kind="mobile")
    token = foreign.encrypt(b"13900000000").decode()
    put_raw(ContactMethod, phone.pk, value=token)
    put_raw(Customer, amelia.pk, birth_date=foreign.encrypt(b"1990-01-01").decode())
    phone = ContactMethod.objects.get(pk=phone.pk)
    assert isinstance(phone.value, Unreadable) and phone.value == UNREADABLE_TEXT
    amelia.refresh_from_db()
    assert isinstance(amelia.birth_date, Unreadable)
    client.force_login(sales_user)
    response = client.get(amelia.get_absolute_url())
    assert response.status_code == 200
    assert UNREADABLE_TEXT.encode() in response.content
    # Saving the row writes the token back unchanged: nothing is lost, a restored key still reads it.
    phone.label = "work"
    phone.save()
    assert token in stored(ContactMethod, "value")


def current_key() -> str:
    """The key the test settings encrypt with (none configured: the one derived from SECRET_KEY)."""
    return ring_keys(KEYS_SETTING, purpose=KEYS_PURPOSE)[0]


def test_rotate_keys_re_encrypts_everything_with_the_first_key(amelia):
    old, new = current_key(), Fernet.generate_key().decode()
    other = CustomerFactory(name="Other", owner=amelia.owner, birth_date=datetime.date(1985, 1, 2))
    ContactMethodFactory(customer=other, kind="email", value="other@example.com")
    with override_settings(CRM_FIELD_ENCRYPTION_KEYS=[new, old]):
        assert not all(is_current_token(token) for token in stored(ContactMethod, "value"))
        out = io.StringIO()
        call_command("rotate_keys", stdout=out)
        assert "customers.ContactMethod: 3 rows read, 3 values re-encrypted" in out.getvalue()
        assert all(is_current_token(token) for token in stored(ContactMethod, "value") if token)
        again = io.StringIO()
        call_command("rotate_keys", stdout=again)
        assert "customers.ContactMethod: 3 rows read, 0 values re-encrypted, 3 already" in again.getvalue()
    # The newest key alone reads everything now.
    with override_settings(CRM_FIELD_ENCRYPTION_KEYS=[new]):
        assert Customer.objects.get(pk=other.pk).birth_date == datetime.date(1985, 1, 2)
        assert {c.value for c in ContactMethod.objects.all()} == {PHONE, EMAIL, "other@example.com"}
        assert Address.objects.get().street == "世纪大道 100 号"
        assert Customer.objects.get(pk=amelia.pk).id_number == "11010519900517001X"


def test_rotate_keys_goes_on_where_an_interrupted_run_stopped(amelia):
    old, new = current_key(), Fernet.generate_key().decode()
    for i in range(3):
        ContactMethodFactory(customer=amelia, kind="email", value=f"a{i}@example.com")
    with override_settings(CRM_FIELD_ENCRYPTION_KEYS=[new, old]):
        first = rotate_model(ContactMethod, batch_size=2, max_batches=1)  # "interrupted" after one batch
        assert (first.rows, first.batches) == (2, 1)
        second = rotate_model(ContactMethod, batch_size=2)
        assert second.rows == 5 and first.rotated + second.rotated == 5
        assert second.current == first.rotated  # what the first run did is skipped, not redone
        assert all(is_current_token(token) for token in stored(ContactMethod, "value"))


def test_check_deploy_warns_without_personal_data_keys():
    with override_settings(CRM_FIELD_ENCRYPTION_KEYS=[], CRM_BLIND_INDEX_KEY=""):
        ids = [message.id for message in check_personal_data_keys()]
    assert ids == ["crm_site.W013", "crm_site.W013"]
    with override_settings(
        CRM_FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()], CRM_BLIND_INDEX_KEY="k" * 40
    ):
        assert check_personal_data_keys() == []
    with override_settings(CRM_FIELD_ENCRYPTION_KEYS=["not-a-key"], CRM_BLIND_INDEX_KEY="k" * 40):
        assert [m.id for m in check_personal_data_keys() if m.level >= checks.ERROR] == ["crm_site.E013"]


def test_bulk_update_and_update_store_tokens_on_every_backend(amelia):
    """bulk_update wraps values in Value(); on MongoDB that skips the field's prep unless patched."""
    amelia.id_number = "220105199001010022"
    amelia.birth_date = datetime.date(1991, 1, 1)
    Customer.objects.bulk_update([amelia], ["id_number", "birth_date"])
    Address.objects.filter(customer=amelia).update(street="Nanjing Road 1")
    raw = " ".join(str(v) for v in [*stored(Customer, "id_number"), *stored(Customer, "birth_date")])
    assert "220105199001010022" not in raw and "1991" not in raw
    assert "Nanjing" not in " ".join(str(v) for v in stored(Address, "street"))
    amelia.refresh_from_db()
    assert (amelia.id_number, amelia.birth_date) == ("220105199001010022", datetime.date(1991, 1, 1))
    assert Address.objects.get().street == "Nanjing Road 1"


def test_blind_index_follows_a_changed_key():
    """The keyed HMAC is cached; a changed key setting must still change every hash."""
    from crm_site.crypto import blind_index

    before = blind_index("13812345678", purpose="contact")
    with override_settings(CRM_BLIND_INDEX_KEY="k" * 40):
        changed = blind_index("13812345678", purpose="contact")
        assert changed != before
        assert blind_index("13812345678", purpose="contact") == changed
    assert blind_index("13812345678", purpose="contact") == before
