"""Partner pages: the directory is visible to staff, only the owner and managers edit (issue 9)."""

import pytest
from django.urls import reverse

from customers.models import Partner
from customers.tests.factories import PartnerFactory


def _partner_data(**overrides):
    data = {"kind": "reseller", "name": "Acme Reseller", "website": "", "phone": "", "email": "", "city": ""}
    data.update(overrides)
    data.setdefault("is_active", "on")
    return data


@pytest.fixture
def others_partner(other_sales_user):
    return PartnerFactory(name="B's Reseller", owner=other_sales_user, city="Hangzhou")


@pytest.mark.django_db
def test_partner_list_and_detail_open_for_sales(client, sales_user, others_partner):
    client.force_login(sales_user)
    listing = client.get(reverse("customers:partner-list"))
    assert listing.status_code == 200
    assert "B&#x27;s Reseller" in listing.content.decode() or "B's Reseller" in listing.content.decode()
    detail = client.get(reverse("customers:partner-detail", args=[others_partner.pk]))
    assert detail.status_code == 200
    # No edit button on someone else's partner.
    assert reverse("customers:partner-update", args=[others_partner.pk]) not in detail.content.decode()


@pytest.mark.django_db
def test_partner_pages_need_the_view_permission(client, make_user, others_partner):
    nobody = make_user("no_roles")
    client.force_login(nobody)
    assert client.get(reverse("customers:partner-list")).status_code == 403
    assert client.get(reverse("customers:partner-detail", args=[others_partner.pk])).status_code == 403


@pytest.mark.django_db
def test_create_partner_is_owned_by_its_creator(client, sales_user):
    client.force_login(sales_user)
    response = client.post(reverse("customers:partner-create"), _partner_data(owner="ignored"))
    partner = Partner.objects.get(name="Acme Reseller")
    assert response.status_code == 302
    assert response["Location"] == partner.get_absolute_url()
    assert partner.owner == sales_user


@pytest.mark.django_db
def test_create_partner_with_bad_email_names_the_field_and_writes_nothing(client, sales_user):
    client.force_login(sales_user)
    response = client.post(reverse("customers:partner-create"), _partner_data(email="not-an-email"))
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not Partner.objects.exists()


@pytest.mark.django_db
def test_sales_user_cannot_edit_another_users_partner(client, sales_user, others_partner):
    client.force_login(sales_user)
    url = reverse("customers:partner-update", args=[others_partner.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, _partner_data(name="Taken over")).status_code == 403
    others_partner.refresh_from_db()
    assert others_partner.name == "B's Reseller"


@pytest.mark.django_db
def test_ownerless_partner_is_managers_only(client, sales_user, manager_user):
    partner = PartnerFactory(name="Old Partner", owner=None)
    url = reverse("customers:partner-update", args=[partner.pk])
    client.force_login(sales_user)
    assert client.post(url, _partner_data(name="Mine now")).status_code == 403
    client.force_login(manager_user)
    assert client.post(url, _partner_data(name="Renamed", owner=str(manager_user.pk))).status_code == 302
    partner.refresh_from_db()
    assert (partner.name, partner.owner) == ("Renamed", manager_user)


@pytest.mark.django_db
def test_owner_edits_own_partner_but_cannot_reassign_it(client, sales_user, other_sales_user):
    partner = PartnerFactory(name="Mine", owner=sales_user)
    client.force_login(sales_user)
    url = reverse("customers:partner-update", args=[partner.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "owner" not in page.context["form"].fields
    response = client.post(url, _partner_data(name="Mine renamed", owner=str(other_sales_user.pk)))
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.name, partner.owner) == ("Mine renamed", sales_user)


@pytest.mark.django_db
def test_manager_edits_any_partner(client, manager_user, others_partner):
    client.force_login(manager_user)
    url = reverse("customers:partner-update", args=[others_partner.pk])
    detail = client.get(reverse("customers:partner-detail", args=[others_partner.pk])).content.decode()
    assert url in detail
    response = client.post(url, _partner_data(name="Managed", owner=str(others_partner.owner.pk)))
    assert response.status_code == 302
    others_partner.refresh_from_db()
    assert others_partner.name == "Managed"


@pytest.mark.django_db
def test_partner_admin_is_closed_to_sales_staff(client, make_user, others_partner):
    staff_sales = make_user("sales_staff", "Sales", is_staff=True)
    client.force_login(staff_sales)
    response = client.get(f"/admin/customers/partner/{others_partner.pk}/change/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=hang", {"B's Reseller"}),
        ("kind=supplier", {"Steel Supplier"}),
        ("active=1", {"B's Reseller", "Steel Supplier"}),
        ("mine=1", {"Steel Supplier", "Sleeping Affiliate"}),
        ("", {"B's Reseller", "Steel Supplier", "Sleeping Affiliate"}),
    ],
)
def test_partner_list_filters_narrow(client, sales_user, others_partner, query, expected):
    PartnerFactory(name="Steel Supplier", kind="supplier", owner=sales_user)
    PartnerFactory(name="Sleeping Affiliate", kind="affiliate", owner=sales_user, is_active=False)
    client.force_login(sales_user)
    response = client.get(reverse("customers:partner-list") + "?" + query)
    assert response.status_code == 200
    assert {p.name for p in response.context["partners"]} == expected


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["kind=spaceship", "q=" + "x" * 300, "page=garbage"])
def test_partner_list_bad_query_is_not_a_500(client, sales_user, others_partner, query):
    client.force_login(sales_user)
    response = client.get(reverse("customers:partner-list") + "?" + query)
    if query.startswith("page="):
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert list(response.context["partners"]) == []
    assert 'id="filter-errors"' in response.content.decode()
