"""Duplicates and merges nobody regrets: the right record survives with the right values (issue 11)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from customers.models import ContactMethod, Customer, CustomerShare
from customers.selectors import duplicate_groups, merged_customer_survivor
from customers.services import customer_merge, customer_set_consent
from customers.tests.factories import ContactMethodFactory, CustomerFactory
from orders.models import SalesOrder
from orders.tests.factories import SalesOrderFactory

pytestmark = pytest.mark.django_db


def _at(year: int, month: int = 1, day: int = 1) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, 10, 0))


def _created(customer: Customer, when: datetime.datetime) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(created_at=when, updated_at=when)
    customer.refresh_from_db()
    return customer


@pytest.fixture
def issue_pair(sales_user):
    """The issue's records: an older customer (4 orders since 2023, Male, consent yes) and a new empty one."""
    old = CustomerFactory(owner=sales_user, name="Chen Jing", gender="male", lifecycle_stage="customer")
    ContactMethodFactory(customer=old, kind="mobile", value="13812345678", is_primary=True)
    customer_set_consent(customer=old, consent=True, channel="paper", at=_at(2023, 3, 1))
    old = _created(old, _at(2023, 2, 1))
    for month in (3, 6, 9, 12):
        SalesOrderFactory(customer=old, ordered_at=_at(2023, month))
    new = CustomerFactory(owner=sales_user, name="Chen Jing", gender="unknown", lifecycle_stage="lead")
    ContactMethodFactory(customer=new, kind="mobile", value="+86 138-1234-5678")
    return old, new


def test_merge_from_the_new_records_page_keeps_the_older_record_and_its_values(
    client, sales_user, issue_pair
):
    old, new = issue_pair
    client.force_login(sales_user)
    # The user starts where the issue did, on the new (empty) record: the URL names it first.
    url = reverse("customers:customer-merge", args=[new.pk, old.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["survivor"] == old  # the record with the most history, whatever the URL order
    assert page.context["form"]["keep"].initial == "b"

    response = client.post(url, {**page.context["form"].initial_choices(), "merge": "1"})

    assert response.status_code == 302 and response["Location"] == old.get_absolute_url()
    assert not Customer.objects.filter(pk=new.pk).exists()
    old.refresh_from_db()
    assert old.lifecycle_stage == "customer" and old.gender == "male"
    assert old.marketing_consent is True and old.consent_changed_at == _at(2023, 3, 1)
    assert old.consent_channel == "paper"
    assert timezone.localdate(old.created_at) == datetime.date(2023, 2, 1)
    assert list(old.contact_methods.values_list("value", flat=True)) == ["13812345678"]  # one phone
    assert SalesOrder.objects.filter(customer=old).count() == 4


def test_merge_service_defaults_follow_the_rule_table_when_the_survivor_is_the_empty_record(
    sales_user, issue_pair
):
    old, new = issue_pair
    # Even merged the wrong way round, nothing is demoted, forgotten or made younger.
    customer_merge(survivor=new, loser=old, by=sales_user)
    new.refresh_from_db()
    assert (new.lifecycle_stage, new.gender, new.marketing_consent) == ("customer", "male", True)
    assert new.consent_changed_at == _at(2023, 3, 1)
    assert timezone.localdate(new.created_at) == datetime.date(2023, 2, 1)
    assert new.contact_methods.count() == 1
    assert new.contact_methods.get().value == "+86 138-1234-5678"  # the survivor's spelling is kept


@pytest.mark.parametrize(
    ("older", "newer", "kept"),
    [
        ((True, 2023), (False, 2025), False),  # withdrawn later: stays withdrawn
        ((False, 2023), (True, 2025), True),  # given later: stays given
        ((True, 2025), (False, 2023), True),  # the older withdrawal does not win over a later yes
    ],
)
def test_merge_keeps_the_latest_explicit_consent_with_its_date(sales_user, older, newer, kept):
    survivor, loser = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    customer_set_consent(customer=survivor, consent=older[0], channel="paper", at=_at(older[1]))
    customer_set_consent(customer=loser, consent=newer[0], channel="web_form", at=_at(newer[1]))
    customer_merge(survivor=survivor, loser=loser, by=sales_user)
    survivor.refresh_from_db()
    latest = max(older[1], newer[1])
    assert survivor.marketing_consent is kept
    assert survivor.consent_changed_at == _at(latest)
    assert survivor.consent_channel == ("web_form" if newer[1] == latest else "paper")


def test_an_explicit_consent_beats_one_never_recorded_in_both_directions(sales_user):
    for recorded in (True, False):
        survivor = CustomerFactory(owner=sales_user, marketing_consent=not recorded)  # no date: never asked
        loser = CustomerFactory(owner=sales_user)
        customer_set_consent(customer=loser, consent=recorded, channel="phone", at=_at(2024))
        customer_merge(survivor=survivor, loser=loser, by=sales_user)
        survivor.refresh_from_db()
        assert survivor.marketing_consent is recorded and survivor.consent_changed_at == _at(2024)


def test_consent_yes_against_no_with_no_dates_must_be_chosen(client, sales_user):
    survivor = CustomerFactory(owner=sales_user, marketing_consent=True)
    loser = CustomerFactory(owner=sales_user, marketing_consent=False)
    with pytest.raises(ValidationError) as error:
        customer_merge(survivor=survivor, loser=loser, by=sales_user)
    assert "marketing_consent" in error.value.message_dict
    client.force_login(sales_user)
    url = reverse("customers:customer-merge", args=[survivor.pk, loser.pk])
    response = client.post(url, {"keep": "a", "merge": "1"})
    assert response.status_code == 200 and "marketing_consent" in response.context["form"].errors
    assert Customer.objects.filter(pk=loser.pk).exists()
    response = client.post(url, {"keep": "a", "marketing_consent": "b", "merge": "1"})
    assert response.status_code == 302, response.context["form"].errors
    survivor.refresh_from_db()
    assert survivor.marketing_consent is False


def test_merge_form_overrides_a_field_and_previews_without_merging(client, sales_user):
    first = CustomerFactory(owner=sales_user, name="Wang Fang", job_title="Buyer")
    second = CustomerFactory(owner=sales_user, name="Wang Fang", job_title="Head of purchasing")
    client.force_login(sales_user)
    url = reverse("customers:customer-merge", args=[first.pk, second.pk])
    page = client.get(url)
    assert page.context["form"]["job_title"].initial == "b"  # filled in on both: the more recently updated
    preview = client.post(url, {"keep": "a", "job_title": "a", "preview": "1"})
    assert preview.status_code == 200 and Customer.objects.filter(pk=second.pk).exists()
    rows = {str(row["label"]): row["value"] for row in preview.context["preview"]}
    assert rows["job title"] == "Buyer"
    assert client.post(url, {"keep": "a", "job_title": "a", "merge": "1"}).status_code == 302
    first.refresh_from_db()
    assert first.job_title == "Buyer"


def test_merged_away_url_redirects_to_the_survivor(client, sales_user, issue_pair):
    old, new = issue_pair
    merged_pk = new.pk
    customer_merge(survivor=old, loser=new, by=sales_user)
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-detail", args=[merged_pk]))
    assert response.status_code == 302 and response["Location"] == old.get_absolute_url()


def test_merged_away_url_follows_a_second_merge(client, sales_user):
    a, b, c = (CustomerFactory(owner=sales_user) for _ in range(3))
    merged_pk = a.pk
    customer_merge(survivor=b, loser=a, by=sales_user)
    customer_merge(survivor=c, loser=b, by=sales_user)
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-detail", args=[merged_pk]))
    assert response.status_code == 302 and response["Location"] == c.get_absolute_url()


def test_merged_away_url_is_404_for_a_user_who_cannot_see_the_survivor(
    client, sales_user, other_sales_user, issue_pair
):
    old, new = issue_pair
    merged_pk = new.pk
    customer_merge(survivor=old, loser=new, by=sales_user)
    assert merged_customer_survivor(user=sales_user, pk=merged_pk) == old
    assert merged_customer_survivor(user=other_sales_user, pk=merged_pk) is None
    client.force_login(other_sales_user)
    response = client.get(reverse("customers:customer-detail", args=[merged_pk]))
    assert response.status_code == 404
    assert old.name not in response.content.decode() and str(old.pk) not in response.content.decode()


def test_a_share_of_the_merged_record_moves_so_its_user_follows_the_redirect(
    client, sales_user, other_sales_user, issue_pair
):
    old, new = issue_pair
    merged_pk = new.pk
    CustomerShare.objects.create(customer=new, user=other_sales_user)
    customer_merge(survivor=old, loser=new, by=sales_user)
    client.force_login(other_sales_user)
    response = client.get(reverse("customers:customer-detail", args=[merged_pk]))
    assert response.status_code == 302 and response["Location"] == old.get_absolute_url()


def test_merge_moves_history_from_other_apps(sales_user):
    from orders.tests.factories import OpportunityFactory, ProjectFactory, ServiceOrderFactory
    from profiles.models import CustomerProfile
    from profiles.tests.factories import EventFactory, ProfileRunFactory

    survivor, loser = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    rows = [
        SalesOrderFactory(customer=loser),
        ServiceOrderFactory(customer=loser),
        ProjectFactory(customer=loser),
        OpportunityFactory(customer=loser),
        EventFactory(customer=loser),
    ]
    run, older_run = ProfileRunFactory(), ProfileRunFactory()
    CustomerProfile.objects.create(run=run, customer=survivor, computed_at=timezone.now())
    CustomerProfile.objects.create(
        run=run, customer=loser, computed_at=timezone.now()
    )  # the same run: one profile per customer
    moved_profile = CustomerProfile.objects.create(run=older_run, customer=loser, computed_at=timezone.now())

    merge = customer_merge(survivor=survivor, loser=loser, by=sales_user)

    for row in rows:
        row.refresh_from_db()
        assert row.customer_id == survivor.pk, row
    assert merge.moved["orders.SalesOrder.customer"] == 1 and merge.moved["profiles.Event.customer"] == 1
    assert CustomerProfile.objects.filter(customer=survivor, run=run).count() == 1
    assert CustomerProfile.objects.get(pk=moved_profile.pk).customer_id == survivor.pk


def test_duplicate_list_tells_the_records_apart(client, sales_user, issue_pair):
    old, new = issue_pair
    client.force_login(sales_user)
    response = client.get(reverse("customers:duplicate-list"))
    group = response.context["groups"][0]
    first, second = group["rows"]
    assert first["customer"] == old and first["is_survivor"]  # the default survivor comes first
    assert [(f.key, f.count) for f in first["facts"]][:1] == [("orders", 4)]
    assert first["last_activity"] == _at(2023, 12)
    assert {"created", "history", "last_activity", "stage"} <= group["differing"]
    assert "contacts" not in group["differing"]  # the same phone, two spellings
    body = response.content.decode()
    assert reverse("customers:customer-merge", args=[old.pk, new.pk]) in body


def test_duplicate_groups_ignore_customers_the_user_cannot_see(sales_user, other_sales_user):
    mine = CustomerFactory(owner=sales_user)
    ContactMethodFactory(customer=mine, kind="email", value="same@example.com")
    theirs = CustomerFactory(owner=other_sales_user)
    ContactMethodFactory(customer=theirs, kind="email", value="SAME@example.com")
    assert duplicate_groups(user=sales_user) == []


def test_customer_page_of_duplicates_compares_with_this_customer(client, sales_user, issue_pair):
    old, new = issue_pair
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-duplicates", args=[new.pk]))
    rows = {row["customer"]: row for row in response.context["rows"]}
    assert rows[new]["is_this"] and rows[old]["pair_survivor"] == old
    assert "keeps Chen Jing by default" in response.content.decode()


def _form_data(**fields):
    data = {
        "kind": "person",
        "name": "New person",
        "gender": "unknown",
        "lifecycle_stage": "lead",
        "source": "other",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-kind": "mobile",
        "contacts-0-value": "+86 139 0000 1111",
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_create_warns_when_a_visible_customer_has_the_phone(client, sales_user):
    existing = CustomerFactory(owner=sales_user, name="Old Liu")
    ContactMethodFactory(customer=existing, kind="phone", value="13900001111")
    client.force_login(sales_user)
    response = client.post(reverse("customers:customer-create"), _form_data(), follow=True)
    assert response.status_code == 200
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and "Old Liu" in warnings[0] and existing.get_absolute_url() in warnings[0]
    assert f'<a href="{existing.get_absolute_url()}">Old Liu</a>' in response.content.decode()  # a link
    assert Customer.objects.filter(name="New person").exists()  # a warning, not a block


def test_create_does_not_warn_about_or_name_a_customer_the_user_cannot_see(
    client, sales_user, other_sales_user
):
    hidden = CustomerFactory(owner=other_sales_user, name="Secret Sun")
    ContactMethodFactory(customer=hidden, kind="mobile", value="13900001111")
    client.force_login(sales_user)
    response = client.post(reverse("customers:customer-create"), _form_data(), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert "Secret Sun" not in " ".join(messages) + response.content.decode()


def test_edit_warns_when_an_email_is_already_another_customers(client, sales_user, own_customer):
    other = CustomerFactory(owner=sales_user, name="Twin Zhang")
    ContactMethodFactory(customer=other, kind="email", value="zhang.wei@example.com")
    client.force_login(sales_user)
    response = client.get(own_customer.get_absolute_url())  # warm: the warning comes with the save only
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]
    ContactMethod.objects.filter(customer=own_customer).exclude(kind="email").delete()
    cm = own_customer.contact_methods.get()
    data = _form_data(name=own_customer.name, **{"contacts-INITIAL_FORMS": "1", "contacts-0-id": str(cm.pk)})
    data.update({"contacts-0-kind": "email", "contacts-0-value": cm.value})
    response = client.post(reverse("customers:customer-update", args=[own_customer.pk]), data, follow=True)
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and "Twin Zhang" in warnings[0]


@pytest.mark.parametrize("action", ["add", "change", "delete"])
def test_merge_audit_is_read_only_in_the_admin(client, manager_user, sales_user, action):
    survivor, loser = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    merge = customer_merge(survivor=survivor, loser=loser, by=sales_user)
    manager_user.is_superuser = True
    manager_user.save()
    client.force_login(manager_user)
    view = reverse("admin:customers_customermerge_change", args=[merge.pk])
    assert client.get(view).status_code == 200  # readable
    if action == "add":
        assert client.get(reverse("admin:customers_customermerge_add")).status_code == 403
        return
    if action == "change":
        response = client.post(view, {"survivor_name": "Rewritten"})
        assert response.status_code == 403
    else:
        url = reverse("admin:customers_customermerge_delete", args=[merge.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
        changelist = client.get(reverse("admin:customers_customermerge_changelist"))
        assert "delete_selected" not in changelist.content.decode()
    merge.refresh_from_db()
    assert merge.survivor_name == survivor.name


def test_a_merged_away_external_id_still_finds_the_survivor(sales_user):
    from customers.selectors import customer_ids_by_external_id
    from customers.services import customers_bulk_create_minimal

    survivor = CustomerFactory(owner=sales_user, external_id="SHOP-1")
    loser = CustomerFactory(owner=sales_user, external_id="SHOP-9")
    customer_merge(survivor=survivor, loser=loser, by=sales_user)
    assert customer_ids_by_external_id(["SHOP-1", "SHOP-9", "SHOP-404"]) == {
        "SHOP-1": survivor.pk,
        "SHOP-9": survivor.pk,
    }
    # An order import that meets the old id again does not bring the duplicate back.
    ids = customers_bulk_create_minimal(rows=[{"external_id": "SHOP-9", "name": "Again"}], owner=sales_user)
    assert ids == {"SHOP-9": survivor.pk} and not Customer.objects.filter(name="Again").exists()


def test_a_user_the_customers_are_only_shared_with_cannot_merge_them(client, sales_user, other_sales_user):
    """A share lets a colleague read and edit; deleting the owner's record or taking it over is not in it."""
    shared = CustomerFactory(owner=sales_user, name="Shared One")
    own = CustomerFactory(owner=other_sales_user, name="Their Own")
    CustomerShare.objects.create(customer=shared, user=other_sales_user)
    client.force_login(other_sales_user)
    url = reverse("customers:customer-merge", args=[shared.pk, own.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"merge": "1"}).status_code == 403
    with pytest.raises(PermissionDenied):
        customer_merge(survivor=own, loser=shared, by=other_sales_user)
    assert Customer.objects.filter(pk=shared.pk, owner=sales_user).exists()


def test_the_merge_link_is_shown_only_to_whom_the_merge_page_lets_in(
    client, sales_user, other_sales_user, make_user
):
    shared = CustomerFactory(owner=sales_user, name="Shared One")
    own = CustomerFactory(owner=other_sales_user, name="Their Own")
    CustomerShare.objects.create(customer=shared, user=other_sales_user)
    for customer in (shared, own):
        ContactMethodFactory(customer=customer, kind="email", value="same@example.com")
    merge_url = reverse("customers:customer-merge", args=[own.pk, shared.pk])
    pages = [reverse("customers:duplicate-list"), reverse("customers:customer-duplicates", args=[own.pk])]
    client.force_login(other_sales_user)  # sees both (one shared), owns only one: the merge page says 403
    for page in pages:
        body = client.get(page).content.decode()
        assert "Shared One" in body and merge_url not in body and "Compare and merge" not in body
    client.force_login(make_user("service_sue", "Service"))  # reads every customer, changes none
    body = client.get(reverse("customers:customer-duplicates", args=[own.pk])).content.decode()
    assert "Shared One" in body and "Compare and merge" not in body
    client.force_login(make_user("boss", "Manager"))
    for page in pages:
        assert "Compare and merge" in client.get(page).content.decode()
