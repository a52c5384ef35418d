"""Every related list on a customer or partner page goes through the viewer's visibility (issue 9)."""

import pytest
from django.urls import reverse

from customers.models import CustomerShare
from customers.tests.factories import (
    ContactMethodFactory,
    CustomerFactory,
    PartnerFactory,
    RelationshipFactory,
)


@pytest.fixture
def shared_with_both(sales_user, other_sales_user):
    """B's customer, shared with A: both users can open its page."""
    customer = CustomerFactory(name="Shared Customer", owner=other_sales_user)
    CustomerShare.objects.create(customer=customer, user=sales_user)
    return customer


@pytest.mark.django_db
def test_inverse_relationship_from_a_private_customer_is_not_listed(
    client, sales_user, other_sales_user, shared_with_both
):
    # A links A's private customer to the shared one; B opens the shared customer's page.
    private = CustomerFactory(name="Secret Private Customer", owner=sales_user)
    RelationshipFactory(customer=private, related_customer=shared_with_both)
    client.force_login(other_sales_user)
    body = client.get(reverse("customers:customer-detail", args=[shared_with_both.pk])).content.decode()
    assert "Secret Private Customer" not in body
    assert str(private.pk) not in body
    # The owner of both still sees the link on their side.
    client.force_login(sales_user)
    body = client.get(reverse("customers:customer-detail", args=[shared_with_both.pk])).content.decode()
    assert "Secret Private Customer" in body


@pytest.mark.django_db
def test_forward_relationship_to_an_invisible_customer_is_not_listed(
    client, sales_user, other_sales_user, shared_with_both
):
    # B links the shared customer to B's own private customer; A (shared with) must not see the target.
    hidden = CustomerFactory(name="Hidden Household Member", owner=other_sales_user)
    RelationshipFactory(customer=shared_with_both, related_customer=hidden)
    client.force_login(sales_user)
    body = client.get(reverse("customers:customer-detail", args=[shared_with_both.pk])).content.decode()
    assert "Hidden Household Member" not in body
    assert str(hidden.pk) not in body
    client.force_login(other_sales_user)
    body = client.get(reverse("customers:customer-detail", args=[shared_with_both.pk])).content.decode()
    assert "Hidden Household Member" in body


@pytest.mark.django_db
def test_partner_relationship_stays_listed(client, sales_user, own_customer):
    partner = PartnerFactory(name="Big Reseller")
    RelationshipFactory(customer=own_customer, related_customer=None, partner=partner, kind="reseller_of")
    client.force_login(sales_user)
    body = client.get(reverse("customers:customer-detail", args=[own_customer.pk])).content.decode()
    assert "Big Reseller" in body


@pytest.mark.django_db
def test_duplicate_candidates_leave_out_invisible_customers(client, sales_user, other_sales_user):
    mine = CustomerFactory(name="Zhou Mine", owner=sales_user)
    ContactMethodFactory(customer=mine, kind="mobile", value="+86 139 0000 1111")
    theirs = CustomerFactory(name="Totally Different", owner=other_sales_user)
    ContactMethodFactory(customer=theirs, kind="mobile", value="+86 139 0000 1111")
    client.force_login(sales_user)
    body = client.get(reverse("customers:customer-duplicates", args=[mine.pk])).content.decode()
    assert "Totally Different" not in body
    assert str(theirs.pk) not in body


@pytest.mark.django_db
def test_duplicate_candidates_invisible_matches_do_not_crowd_out_visible_ones(sales_user, other_sales_user):
    from customers.selectors import duplicate_candidates

    mine = CustomerFactory(name="Qian Mine", owner=sales_user)
    ContactMethodFactory(customer=mine, kind="email", value="same@example.com")
    for _ in range(3):
        ContactMethodFactory(
            customer=CustomerFactory(name="Other", owner=other_sales_user),
            kind="email",
            value="same@example.com",
        )
    twin = CustomerFactory(name="Unrelated Name", owner=sales_user)
    ContactMethodFactory(customer=twin, kind="email", value="same@example.com")
    found = duplicate_candidates(user=sales_user, customer=mine, limit=1)
    assert [row["customer"] for row in found] == [twin]


@pytest.mark.django_db
def test_partner_page_lists_only_visible_customers(client, sales_user, other_sales_user, own_customer):
    partner = PartnerFactory(name="Shared Reseller")
    private = CustomerFactory(name="B Private Buyer", owner=other_sales_user)
    RelationshipFactory(customer=private, related_customer=None, partner=partner, kind="reseller_of")
    RelationshipFactory(customer=own_customer, related_customer=None, partner=partner, kind="reseller_of")
    client.force_login(sales_user)
    body = client.get(reverse("customers:partner-detail", args=[partner.pk])).content.decode()
    assert own_customer.name in body
    assert "B Private Buyer" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        lambda c: reverse("customers:customer-detail", args=[c.pk]),
        lambda c: reverse("customers:customer-sharing", args=[c.pk]),
        lambda c: reverse("customers:index") + "?sort=-created",
        lambda c: reverse("customers:index") + "?q=Ownerless",
        lambda c: reverse("customers:index") + "?q=noowner@example.com",
    ],
    ids=["detail", "sharing", "newest-first", "search-name", "search-contact"],
)
def test_customer_without_owner_renders_everywhere(client, manager_user, url):
    customer = CustomerFactory(name="Ownerless Customer", owner=None, external_id="NOOWNER-1")
    ContactMethodFactory(customer=customer, kind="email", value="noowner@example.com")
    client.force_login(manager_user)
    response = client.get(url(customer))
    assert response.status_code == 200
    assert "Ownerless Customer" in response.content.decode()


@pytest.mark.django_db
def test_sales_order_of_ownerless_customer_renders(client, manager_user):
    from orders.tests.factories import SalesOrderFactory

    customer = CustomerFactory(name="Ownerless Buyer", owner=None)
    order = SalesOrderFactory(customer=customer, owner=manager_user)
    client.force_login(manager_user)
    assert client.get(reverse("orders:salesorder-detail", args=[order.pk])).status_code == 200
    assert client.get(reverse("orders:salesorder-list")).status_code == 200
