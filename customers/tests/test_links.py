import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from customers.models import CustomerShare, CustomerTeamShare, Relationship
from customers.selectors import customer_list
from customers.services import customer_share_with, customer_unshare_with, relationship_create
from customers.tests.factories import ContactMethodFactory, CustomerFactory, PartnerFactory


@pytest.mark.django_db
def test_owner_shares_with_a_user_and_a_team_then_unshares(
    sales_user, other_sales_user, make_user, own_customer
):
    team = Group.objects.create(name="Links test team")
    teammate = make_user("teammate", "Sales")
    teammate.groups.add(team)
    customer_share_with(customer=own_customer, by=sales_user, user=other_sales_user)
    customer_share_with(customer=own_customer, by=sales_user, group=team)
    customer_share_with(customer=own_customer, by=sales_user, user=other_sales_user)  # idempotent
    assert CustomerShare.objects.filter(customer=own_customer).count() == 1
    assert list(customer_list(user=other_sales_user)) == [own_customer]
    assert list(customer_list(user=teammate)) == [own_customer]
    customer_unshare_with(customer=own_customer, by=sales_user, user=other_sales_user)
    customer_unshare_with(customer=own_customer, by=sales_user, group=team)
    assert not CustomerTeamShare.objects.exists() and not customer_list(user=other_sales_user).exists()


@pytest.mark.django_db
def test_only_owner_or_manager_may_share(sales_user, other_sales_user, manager_user, own_customer):
    customer_share_with(customer=own_customer, by=sales_user, user=other_sales_user)
    with pytest.raises(PermissionDenied):
        customer_share_with(customer=own_customer, by=other_sales_user, user=manager_user)
    customer_share_with(customer=own_customer, by=manager_user, user=manager_user)
    with pytest.raises(ValidationError):
        customer_share_with(customer=own_customer, by=manager_user, user=sales_user)  # already the owner


@pytest.mark.django_db
def test_sharing_page_adds_and_removes_a_share(client, sales_user, other_sales_user, own_customer):
    client.force_login(sales_user)
    url = reverse("customers:customer-sharing", args=[own_customer.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"user": other_sales_user.pk})
    assert response.status_code == 302
    assert CustomerShare.objects.filter(customer=own_customer, user=other_sales_user).exists()
    remove = reverse("customers:customer-unshare", args=[own_customer.pk, "user", other_sales_user.pk])
    assert client.post(remove).status_code == 302
    assert not CustomerShare.objects.exists()


@pytest.mark.django_db
def test_sharing_form_without_a_choice_says_so(client, sales_user, own_customer):
    client.force_login(sales_user)
    response = client.post(reverse("customers:customer-sharing", args=[own_customer.pk]), {})
    assert response.status_code == 200 and "Choose either a user or a team" in response.content.decode()


@pytest.mark.django_db
def test_shared_user_sees_the_customer_but_cannot_change_sharing(
    client, sales_user, other_sales_user, own_customer
):
    customer_share_with(customer=own_customer, by=sales_user, user=other_sales_user)
    client.force_login(other_sales_user)
    assert client.get(own_customer.get_absolute_url()).status_code == 200
    assert client.get(reverse("customers:customer-sharing", args=[own_customer.pk])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["customer-sharing", "relationship-create"])
def test_link_pages_of_another_users_customer_answer_404(client, sales_user, others_customer, name):
    client.force_login(sales_user)
    url = reverse(f"customers:{name}", args=[others_customer.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404


@pytest.mark.django_db
def test_post_only_link_urls_of_another_users_customer_answer_404(client, sales_user, others_customer):
    other = CustomerFactory(owner=others_customer.owner)
    relationship = relationship_create(customer=others_customer, kind="household", related_customer=other)
    client.force_login(sales_user)
    urls = [
        reverse("customers:customer-unshare", args=[others_customer.pk, "user", sales_user.pk]),
        reverse("customers:relationship-delete", args=[others_customer.pk, relationship.pk]),
    ]
    for url in urls:
        assert client.post(url).status_code == 404
    assert Relationship.objects.filter(pk=relationship.pk).exists()


@pytest.mark.django_db
def test_relationship_page_links_a_customer_found_by_phone_then_removes_it(client, sales_user, own_customer):
    spouse = CustomerFactory(owner=sales_user, name="王芳")
    ContactMethodFactory(customer=spouse, value="139 1111 2222")
    client.force_login(sales_user)
    url = reverse("customers:relationship-create", args=[own_customer.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "household", "related": "13911112222", "note": "妻子"})
    assert response.status_code == 302
    link = Relationship.objects.get(customer=own_customer)
    assert link.related_customer == spouse and link.note == "妻子"
    page = client.get(own_customer.get_absolute_url()).content.decode()
    assert "王芳" in page
    again = client.post(url, {"kind": "household", "related": "13911112222"})
    assert "already exists" in again.content.decode()
    delete = reverse("customers:relationship-delete", args=[own_customer.pk, link.pk])
    assert client.post(delete).status_code == 302
    assert not Relationship.objects.exists()


@pytest.mark.django_db
def test_relationship_form_names_the_bad_field(client, sales_user, own_customer, others_customer):
    ContactMethodFactory(customer=others_customer, value="13122223333")
    client.force_login(sales_user)
    url = reverse("customers:relationship-create", args=[own_customer.pk])
    hidden = client.post(url, {"kind": "household", "related": "13122223333"}).content.decode()
    assert "No customer you can see matches" in hidden  # someone else's customer stays invisible
    both = client.post(url, {"kind": "reseller_of", "related": "", "partner": ""}).content.decode()
    assert "Enter either a related customer or a partner" in both
    partner = PartnerFactory()
    assert client.post(url, {"kind": "reseller_of", "partner": partner.pk}).status_code == 302
    assert Relationship.objects.get(customer=own_customer).partner == partner


@pytest.mark.django_db
def test_unshare_with_a_malformed_target_answers_404(client, sales_user, own_customer):
    client.force_login(sales_user)
    for kind, target in (("user", "not-a-pk"), ("robot", "1")):
        url = reverse("customers:customer-unshare", args=[own_customer.pk, kind, target])
        assert client.post(url).status_code == 404
