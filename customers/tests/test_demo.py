import datetime
import re

import numpy as np
import pytest
from django.db import connection

from crm_site.demo import SeedContext
from customers import demo
from customers.models import Address, ContactMethod, Customer, Partner, Relationship


def _context(users, customers=120, batch_size=50):
    return SeedContext(customers=customers, seed=7, users=users, batch_size=batch_size, log=lambda _m: None)


@pytest.mark.django_db
def test_demo_seed_is_deterministic_and_shares_ids(make_user):
    users = {"sales1": make_user("sales1", "Sales"), "sales2": make_user("sales2", "Sales")}
    ctx = _context(users)
    demo.seed(ctx)
    assert Customer.objects.count() == 120 and Address.objects.count() == 120
    assert ContactMethod.objects.filter(kind="mobile").count() == 120
    assert ctx.shared["customer_ids"] == list(
        Customer.objects.order_by("external_id").values_list("pk", flat=True)
    )
    assert set(ctx.shared["customer_owner_ids"]) == {users["sales1"].pk, users["sales2"].pk}
    again = _context(users)
    Customer.objects.all().delete()
    Partner.objects.all().delete()
    demo.seed(again)
    assert again.shared["customer_ids"] == ctx.shared["customer_ids"]


@pytest.mark.django_db
def test_demo_customers_were_created_over_three_years(make_user):
    demo.seed(_context({"sales1": make_user("sales1", "Sales")}, customers=300, batch_size=100))
    created = sorted(Customer.objects.values_list("created_at", flat=True))
    end = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    assert created[-1] <= end and created[0] >= end - datetime.timedelta(days=3 * 365)
    assert created[-1] - created[0] > datetime.timedelta(days=2 * 365)
    customer = Customer.objects.order_by("created_at").first()
    assert customer.updated_at >= customer.created_at
    # Child rows point at customers of the same chunk and are valid records.
    assert Relationship.objects.exclude(related_customer=None).exists()
    sample = ContactMethod.objects.filter(kind="email").first()
    sample.full_clean()


def test_generate_chunk_is_pure_and_deterministic():
    def make():
        return demo.generate_chunk(
            np.random.default_rng(3), first_serial=1, size=500, owners=[1], tag_ids=["t"], partner_ids=["p"]
        )

    one, two = make(), make()
    assert one.name == two.name and (one.ids == two.ids).all()
    assert len(set(map(bytes, one.ids))) == 500
    assert any("\u4e00" <= name[0] <= "\u9fff" for name in one.name)  # Chinese names
    assert any(name[0].isascii() for name in one.name)  # and English ones
    assert all(len(row[2]) == 11 for row in one.contacts if row[1] == "mobile")
    assert len(one.child_ids["contacts"]) == len(one.contacts)


@pytest.mark.django_db
def test_large_postgresql_seed_restores_indexes_and_foreign_keys(make_user, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY fast path and index rebuild are PostgreSQL only")

    def definitions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'customers_%%' "
                "UNION ALL SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid::regclass::text LIKE 'customers_%%'"
            )
            return [row[0] for row in cursor.fetchall()]

    before = definitions()
    monkeypatch.setattr(demo, "BULK_INDEX_THRESHOLD", 1)
    demo.seed(_context({"sales1": make_user("sales1", "Sales")}, customers=200, batch_size=80))
    assert definitions() == before
    assert Customer.objects.count() == 200 and Address.objects.count() == 200


def test_generated_company_customer_is_named_after_the_company_not_a_person():
    chunk = demo.generate_chunk(
        np.random.default_rng(3), first_serial=1, size=500, owners=[1], tag_ids=[], partner_ids=[]
    )
    companies = [i for i, kind in enumerate(chunk.kind) if kind == "company"]
    assert companies
    names = [chunk.name[i] for i in companies]
    assert len(set(names)) == len(names)  # one branch per customer, not 500 x "Acme Trading"
    for i in companies:
        name, firm = chunk.name[i], chunk.company_name[i]
        assert re.fullmatch(re.escape(firm) + r"( \([A-Za-z]+ #\d+\)|（\w+ #\d+）)", name), name
        assert chunk.notes[i].startswith("联系人 Contact: ") and chunk.notes[i].split(": ")[1] not in name


@pytest.mark.django_db
def test_seeded_company_customer_has_no_person_name_glued_to_it(make_user):
    """Both write paths (COPY on PostgreSQL, bulk_create elsewhere) store the company name and contact."""
    demo.seed(_context({"sales1": make_user("sales1", "Sales")}, customers=200, batch_size=80))
    companies = list(Customer.objects.filter(kind="company").values_list("name", "company_name", "notes"))
    assert companies
    person_words = set(demo.FIRST) | set(demo.LAST)
    for name, firm, notes in companies:
        assert name.startswith(f"{firm} (") or name.startswith(f"{firm}（"), name
        assert not person_words & set(re.split(r"[ ()#]", name)), name
        assert not any(name.startswith(firm + surname) for surname in demo.SURNAMES), name
        assert notes.startswith("联系人 Contact: ")


@pytest.mark.django_db
def test_demo_consent_ledger_matches_the_marketing_summary(make_user):
    from customers.models import ConsentRecord, ConsentState

    demo.seed(_context({"sales1": make_user("sales1", "Sales")}, customers=100, batch_size=50))
    consenting = set(Customer.objects.filter(marketing_consent=True).values_list("pk", flat=True))
    assert 0 < len(consenting) < 100
    email = ConsentState.objects.filter(purpose="marketing_email")
    assert set(email.filter(granted=True).values_list("customer_id", flat=True)) == consenting
    assert not email.filter(granted=False).exists()
    records = ConsentRecord.objects.all()
    assert set(records.values_list("source", "notice_version").distinct()) == {("import", "2026-01")}
    refusing = ConsentState.objects.filter(purpose="profiling", granted=False)
    assert refusing.count() == 4  # serials 25, 50, 75, 100
    customer = Customer.objects.get(pk=refusing.first().customer_id)
    assert refusing.first().record.recorded_at == customer.created_at
    # The seeder writes ledger and summary directly: what the consent service would derive is the same.
    from customers.services.consent import marketing_summary_sync

    columns = ("pk", "marketing_consent", "consent_changed_at", "consent_channel", "consent_note")
    seeded = sorted(Customer.objects.values_list(*columns))
    assert {row[3] for row in seeded} == {"import", ""}
    marketing_summary_sync(customer_ids=[row[0] for row in seeded])
    assert sorted(Customer.objects.values_list(*columns)) == seeded
