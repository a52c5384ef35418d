"""customer_choices: the one matching rule behind every customer field and its autocomplete."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_site.templatetags.contact_links import contact_href
from customers.models import CustomerShare, Relationship
from customers.selectors import customer_choice_get, customer_choices
from customers.tests.factories import ContactMethodFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def amelia(sales_user):
    customer = CustomerFactory(
        name="Amelia Hall", owner=sales_user, external_id="DEMO-0001014", company_name="Harbour Foods"
    )
    ContactMethodFactory(customer=customer, kind="mobile", value="+86 139-2493-1014", is_primary=True)
    ContactMethodFactory(customer=customer, kind="email", value="amelia.hall1014@example.com")
    return customer


@pytest.mark.parametrize(
    "query",
    [
        "Amelia",
        "amel",
        "hall",
        "Harbour",
        "DEMO-0001014",
        "demo-00010",
        "amelia.hall1014",
        "2493",
        "139 2493 1014",
        "+86 139-2493-1014",
        "Amelia.Hall1014@example.com",
    ],
)
def test_customer_choices_match_name_company_external_id_email_and_phone_digits(sales_user, amelia, query):
    assert [choice.pk for choice in customer_choices(user=sales_user, query=query)] == [amelia.pk]


def test_customer_choice_label_shows_phone_and_external_id_never_the_id(sales_user, amelia):
    (choice,) = customer_choices(user=sales_user, query="Amelia")
    assert choice.label == "Amelia Hall · +86 139-2493-1014 · DEMO-0001014"
    assert str(amelia.pk) not in choice.label
    assert choice.as_json()["url"] == amelia.get_absolute_url()


def test_customer_choices_never_return_another_sales_users_customer(sales_user, other_sales_user, amelia):
    theirs = CustomerFactory(name="Amelia Other", owner=other_sales_user, external_id="THEIRS-1")
    ContactMethodFactory(customer=theirs, kind="mobile", value="13924930000")
    for query in ("Amelia", "THEIRS-1", "2493", "13924930000"):
        assert theirs.pk not in {choice.pk for choice in customer_choices(user=sales_user, query=query)}
    assert customer_choice_get(user=sales_user, pk=theirs.pk) is None
    # Shared with the sales user: now it is found.
    CustomerShare.objects.create(customer=theirs, user=sales_user)
    assert theirs.pk in {choice.pk for choice in customer_choices(user=sales_user, query="THEIRS-1")}


def test_customer_choices_put_exact_matches_first(sales_user):
    CustomerFactory(name="Li Na Zhang", owner=sales_user)
    exact = CustomerFactory(name="Li Na", owner=sales_user)
    choices = customer_choices(user=sales_user, query="li na")
    assert choices[0].pk == exact.pk and choices[0].exact
    assert not choices[1].exact


def test_customer_choices_respect_limit_and_empty_query(sales_user):
    for i in range(5):
        CustomerFactory(name=f"Wang {i}", owner=sales_user)
    assert len(customer_choices(user=sales_user, query="Wang", limit=3)) == 3
    assert customer_choices(user=sales_user, query="   ") == []


def test_customer_choice_get_rejects_malformed_ids(sales_user, amelia):
    assert customer_choice_get(user=sales_user, pk="not-a-uuid") is None
    assert customer_choice_get(user=sales_user, pk=amelia.pk).name == "Amelia Hall"


def test_customer_choices_cost_the_same_queries_at_any_size(sales_user):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            customer_choices(user=sales_user, query="Chen")
        return len(queries)

    CustomerFactory(name="Chen 0", owner=sales_user)
    count()  # the user's teams are read once, then cached on the user
    small = count()
    for i in range(1, 20):
        customer = CustomerFactory(name=f"Chen {i}", owner=sales_user)
        ContactMethodFactory(customer=customer, kind="email", value=f"chen{i}@example.com")
    assert count() == small


# The autocomplete's JSON endpoint (customers:customer-choices).


def test_choices_endpoint_answers_visible_matches_as_labels(client, sales_user, amelia):
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-choices"), {"q": "2493"})
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert (
        result["id"] == str(amelia.pk) and result["label"] == "Amelia Hall · +86 139-2493-1014 · DEMO-0001014"
    )
    assert result["url"] == amelia.get_absolute_url()


def test_choices_endpoint_never_lists_another_sales_users_customer(client, other_sales_user, amelia):
    client.force_login(other_sales_user)
    for query in ("Amelia", "DEMO-0001014", "2493", "amelia.hall1014@example.com", str(amelia.pk)):
        response = client.get(reverse("customers:customer-choices"), {"q": query})
        assert response.status_code == 200 and response.json() == {"results": []}, query


def test_choices_endpoint_refuses_anonymous_and_bad_input(client, sales_user):
    url = reverse("customers:customer-choices")
    assert client.get(url, {"q": "a"}).status_code == 403  # JSON: no login page redirect
    client.force_login(sales_user)
    bad = client.get(url, {"q": "x" * 201, "limit": "many"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"q", "limit"}
    assert client.get(url).json() == {"results": []}


# The relationship form picks its related customer the same way (no JavaScript).


def test_relationship_form_lists_namesakes_to_choose_from(client, sales_user, other_sales_user, amelia):
    twin = CustomerFactory(name="Amelia Hall", owner=sales_user)
    CustomerFactory(name="Amelia Hall", owner=other_sales_user, external_id="NOT-YOURS")
    base = CustomerFactory(name="Base", owner=sales_user)
    client.force_login(sales_user)
    url = reverse("customers:relationship-create", args=[base.pk])
    html = client.post(url, {"kind": "household", "related": "Amelia Hall"}).content.decode()
    assert "Several customers match “Amelia Hall”: choose one of them." in html
    assert "NOT-YOURS" not in html and html.count('name="related_pick"') == 2
    response = client.post(url, {"kind": "household", "related": "Amelia Hall", "related_pick": str(twin.pk)})
    assert response.status_code == 302
    assert Relationship.objects.get(customer=base).related_customer == twin


# Phone and email are tap-to-call and mail links.


def test_customer_page_links_phone_and_email(client, sales_user, amelia):
    client.force_login(sales_user)
    html = client.get(amelia.get_absolute_url()).content.decode()
    assert '<a href="tel:+8613924931014">+86 139-2493-1014</a>' in html
    assert '<a href="mailto:amelia.hall1014@example.com">amelia.hall1014@example.com</a>' in html


@pytest.mark.parametrize(
    ("value", "kind", "href"),
    [
        ("139 1234 5678", "mobile", "tel:13912345678"),
        ("+86 (10) 8888-1234", "phone", "tel:+861088881234"),
        ("a.b@example.com", "email", "mailto:a.b@example.com"),
        ("138****8000", "mobile", ""),  # masked for this viewer: nothing to call
        ("ZhangWei_88", "wechat", ""),
        ("", "phone", ""),
    ],
)
def test_contact_href(value, kind, href):
    assert contact_href(value, kind) == href
