"""customer_choices: the one matching rule behind every customer field and its autocomplete."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import CustomerShare
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
