import datetime

import pytest
from django.http import Http404

from customers.models import CustomerShare, CustomerTeamShare, CustomFieldDefinition
from customers.selectors import (
    bounded_count,
    customer_get,
    customer_ids_by_external_id,
    customer_list,
    customer_page,
    customers_for_profiles,
)
from customers.tests.factories import AddressFactory, CustomerFactory, TagFactory


@pytest.mark.django_db
def test_sales_user_sees_only_own_and_shared_customers(
    sales_user, other_sales_user, own_customer, others_customer
):
    shared = CustomerFactory(owner=other_sales_user, name="Shared one")
    CustomerShare.objects.create(customer=shared, user=sales_user)
    visible = set(customer_list(user=sales_user).values_list("pk", flat=True))
    assert visible == {own_customer.pk, shared.pk}


@pytest.mark.django_db
def test_team_share_makes_customer_visible_to_group_members(sales_user, other_sales_user, others_customer):
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="East team")
    sales_user.groups.add(team)
    CustomerTeamShare.objects.create(customer=others_customer, group=team)
    assert customer_get(user=sales_user, pk=others_customer.pk) == others_customer


@pytest.mark.django_db
def test_manager_sees_every_customer(manager_user, own_customer, others_customer):
    assert customer_list(user=manager_user).count() == 2


@pytest.mark.django_db
def test_customer_get_of_someone_elses_customer_is_404(sales_user, others_customer):
    with pytest.raises(Http404):
        customer_get(user=sales_user, pk=others_customer.pk)
    with pytest.raises(Http404):
        customer_get(user=sales_user, pk="not-a-uuid")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["13800138000", "+86 138 0013 8000", "zhang.wei@example.com", "zhangwei_88", "zhang"]
)
def test_search_finds_by_phone_email_wechat_or_name(sales_user, own_customer, query):
    CustomerFactory(owner=sales_user, name="Somebody else")
    assert list(customer_list(user=sales_user, filters={"q": query})) == [own_customer]


@pytest.mark.django_db
def test_search_does_not_leak_other_users_customers(sales_user, others_customer):
    assert not customer_list(user=sales_user, filters={"q": "Li Na"}).exists()


@pytest.mark.django_db
def test_two_character_search_matches_the_start_of_names(sales_user):
    zhang = CustomerFactory(owner=sales_user, name="张伟明")
    CustomerFactory(owner=sales_user, name="李张伟")
    company = CustomerFactory(owner=sales_user, name="王芳", company_name="华为")
    assert list(customer_list(user=sales_user, filters={"q": "张伟"})) == [zhang]
    assert list(customer_list(user=sales_user, filters={"q": "华为"})) == [company]
    assert customer_list(user=sales_user, filters={"q": "张伟明"}).get() == zhang


@pytest.mark.django_db
def test_phone_search_does_not_leak_other_users_customers(sales_user, other_sales_user):
    from customers.tests.factories import ContactMethodFactory

    ContactMethodFactory(customer=CustomerFactory(owner=other_sales_user), value="13900000001")
    assert not customer_list(user=sales_user, filters={"q": "13900000001"}).exists()


@pytest.mark.django_db
def test_search_for_a_common_word_falls_back_to_the_ordered_filter(sales_user, other_sales_user, monkeypatch):
    from customers.selectors import customers as module

    monkeypatch.setattr(module, "SEARCH_ID_CAP", 2)
    mine = [CustomerFactory(owner=sales_user, name=f"Taylor {n}") for n in range(4)]
    CustomerFactory(owner=other_sales_user, name="Taylor other")
    CustomerFactory(owner=sales_user, name="Smith")
    found = customer_page(customer_list(user=sales_user, filters={"q": "taylor"}), size=3)
    assert found.rows == mine[:3] and found.next_cursor
    rest = customer_page(customer_list(user=sales_user, filters={"q": "taylor"}), cursor=found.next_cursor)
    assert rest.rows == mine[3:]


@pytest.mark.django_db
def test_filters_by_stage_tag_and_custom_field(sales_user):
    from customers.services import customer_set_tags

    CustomFieldDefinition.objects.create(key="vip_level", label="VIP level", field_type="number")
    match = CustomerFactory(owner=sales_user, lifecycle_stage="prospect", attributes={"vip_level": 3})
    CustomerFactory(owner=sales_user, lifecycle_stage="prospect", attributes={"vip_level": 1})
    CustomerFactory(owner=sales_user, lifecycle_stage="lead", attributes={"vip_level": 3})
    tag = TagFactory(name="VIP")
    customer_set_tags(customer=match, names=["VIP"])
    filters = {"stage": "prospect", "cf_vip_level": "3", "tag": str(tag.pk)}
    assert list(customer_list(user=sales_user, filters=filters)) == [match]


@pytest.mark.django_db
def test_keyset_pages_walk_forward_and_back_without_gaps(sales_user):
    made = [CustomerFactory(owner=sales_user, name=f"C{i:03d}") for i in range(23)]
    qs = customer_list(user=sales_user)
    seen, cursor, pages = [], None, []
    while True:
        page = customer_page(qs, sort="name", cursor=cursor, size=5)
        pages.append(page)
        seen.extend(row.name for row in page.rows)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [c.name for c in made]
    back = customer_page(qs, sort="name", cursor=pages[-1].prev_cursor, size=5)
    assert [r.name for r in back.rows] == [r.name for r in pages[-2].rows]
    assert pages[0].is_first and not pages[0].prev_cursor


@pytest.mark.django_db
def test_keyset_descending_created_sort(sales_user):
    made = [CustomerFactory(owner=sales_user) for _ in range(7)]
    qs = customer_list(user=sales_user)
    first = customer_page(qs, sort="-created", size=4)
    second = customer_page(qs, sort="-created", cursor=first.next_cursor, size=4)
    names = [r.pk for r in first.rows + second.rows]
    assert sorted(names) == sorted(c.pk for c in made) and len(set(names)) == 7


@pytest.mark.django_db
def test_bounded_count_stops_at_the_limit(sales_user):
    CustomerFactory.create_batch(6, owner=sales_user)
    assert bounded_count(customer_list(user=sales_user), limit=4) == (4, True)
    assert bounded_count(customer_list(user=sales_user), limit=10) == (6, False)


@pytest.mark.django_db
def test_customers_for_profiles_yields_plain_dicts_with_default_address(sales_user):
    a = CustomerFactory(owner=sales_user, gender="female", birth_date=datetime.date(1990, 5, 1))
    AddressFactory(customer=a, province="浙江省", city="杭州市", is_default=True)
    b = CustomerFactory(owner=sales_user)
    chunks = list(customers_for_profiles(chunk_size=1))
    assert len(chunks) == 2
    rows = {row["id"]: row for chunk in chunks for row in chunk}
    assert rows[str(a.pk)]["city"] == "杭州市" and rows[str(a.pk)]["province"] == "浙江省"
    assert rows[str(b.pk)]["city"] == "" and rows[str(a.pk)]["birth_date"] == datetime.date(1990, 5, 1)
    assert set(rows[str(b.pk)]) == {
        "id",
        "gender",
        "birth_date",
        "province",
        "city",
        "lifecycle_stage",
        "source",
        "created_at",
    }
    only = list(customers_for_profiles(customer_ids=[b.pk]))
    assert [row["id"] for chunk in only for row in chunk] == [str(b.pk)]


@pytest.mark.django_db
def test_customer_ids_by_external_id(sales_user):
    a = CustomerFactory(owner=sales_user, external_id="EXT-1")
    assert customer_ids_by_external_id(["EXT-1", "EXT-2"]) == {"EXT-1": a.pk}
