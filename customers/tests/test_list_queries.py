"""The customer list's query string goes through its form before the selector runs (issue 9)."""

import base64
import json
import uuid

import pytest
from django.urls import reverse

from customers.models import CustomFieldDefinition
from customers.tests.factories import CustomerFactory, TagFactory

Type = CustomFieldDefinition.FieldType


def _cursor(value, pk="00000000-0000-0000-0000-000000000000", direction="next"):
    raw = json.dumps([value, str(pk), direction]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _names(response):
    return {customer.name for customer, _tags in response.context["rows"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=" + _cursor(["a", "list"]),
        "cursor=" + _cursor("not a date") + "&sort=-created",
        "cursor=" + _cursor({"dt": "2024-01-01T00:00:00"}) + "&sort=-created",  # naive
        "cursor=" + _cursor({"dt": "9999-12-31T23:59:59-14:00"}) + "&sort=created",
        "cursor=" + _cursor({"dt": "0001-01-01T00:00:00+14:00"}) + "&sort=-updated",
        "cursor=" + _cursor("name\x00") + "&sort=name",
        "cursor=" + _cursor("x", pk="not-a-uuid"),
        "cursor=" + _cursor("x", direction="sideways"),
        "owner=not-a-user",
        "owner=99999999",
        "tag=" + str(uuid.UUID(int=1)),  # fixed: pytest-xdist workers must collect the same ids
        "tag=garbage",
        "stage=royalty",
        "kind=alien",
        "consent=maybe",
        "sort=password",
        "q=%00",
        "q=" + "x" * 1200,
    ],
)
def test_bad_list_query_answers_200_with_the_error(client, sales_user, own_customer, query):
    client.force_login(sales_user)
    response = client.get(reverse("customers:index") + "?" + query)
    assert response.status_code == 200
    assert 'id="filter-errors"' in response.content.decode()
    assert _names(response) == set()


@pytest.mark.django_db
def test_valid_cursor_still_pages(client, sales_user):
    for i in range(3):
        CustomerFactory(name=f"Paged {i}", owner=sales_user)
    client.force_login(sales_user)
    from customers.views.customers import CustomerListView

    CustomerListView.page_size = 2
    try:
        first = client.get(reverse("customers:index"))
        cursor = first.context["page"].next_cursor
        second = client.get(reverse("customers:index") + f"?cursor={cursor}")
    finally:
        CustomerListView.page_size = 25
    assert _names(first) == {"Paged 0", "Paged 1"}
    assert _names(second) == {"Paged 2"}
    assert 'id="filter-errors"' not in second.content.decode()


@pytest.mark.django_db
def test_every_customer_list_filter_narrows(client, sales_user, manager_user):
    from customers.services import customer_set_tags

    tag = TagFactory(name="vip")
    a = CustomerFactory(
        name="Alpha",
        owner=sales_user,
        lifecycle_stage="lead",
        source="web",
        kind="person",
        marketing_consent=True,
    )
    customer_set_tags(customer=a, names=["vip"])
    CustomerFactory(
        name="Beta",
        owner=manager_user,
        lifecycle_stage="customer",
        source="store",
        kind="company",
        marketing_consent=False,
    )
    client.force_login(manager_user)
    cases = {
        "q=Alp": {"Alpha"},
        f"owner={sales_user.pk}": {"Alpha"},
        "stage=customer": {"Beta"},
        "source=web": {"Alpha"},
        "kind=company": {"Beta"},
        f"tag={tag.pk}": {"Alpha"},
        "consent=yes": {"Alpha"},
        "consent=no": {"Beta"},
        "": {"Alpha", "Beta"},
    }
    for query, expected in cases.items():
        response = client.get(reverse("customers:index") + "?" + query)
        assert response.status_code == 200, query
        assert _names(response) == expected, query


@pytest.fixture
def typed_fields(db):
    CustomFieldDefinition.objects.create(key="budget", label="Budget", field_type=Type.NUMBER)
    CustomFieldDefinition.objects.create(key="met_on", label="Met on", field_type=Type.DATE)
    CustomFieldDefinition.objects.create(key="vip", label="VIP", field_type=Type.BOOLEAN)
    CustomFieldDefinition.objects.create(
        key="tier", label="Tier", field_type=Type.CHOICE, choices="gold\nsilver"
    )
    CustomFieldDefinition.objects.create(key="hobby", label="Hobby", field_type=Type.TEXT)


@pytest.mark.django_db
def test_custom_field_filters_narrow(client, sales_user, typed_fields):
    CustomerFactory(
        name="Gold One",
        owner=sales_user,
        attributes={"budget": 5000, "met_on": "2024-05-01", "vip": True, "tier": "gold", "hobby": "Go chess"},
    )
    CustomerFactory(
        name="Silver Two",
        owner=sales_user,
        attributes={"budget": 10, "met_on": "2023-01-01", "vip": False, "tier": "silver", "hobby": "tennis"},
    )
    client.force_login(sales_user)
    cases = {
        "cf_budget=5000": {"Gold One"},
        "cf_met_on=2023-01-01": {"Silver Two"},
        "cf_vip=yes": {"Gold One"},
        "cf_vip=no": {"Silver Two"},
        "cf_tier=silver": {"Silver Two"},
        "cf_hobby=chess": {"Gold One"},
    }
    for query, expected in cases.items():
        response = client.get(reverse("customers:index") + "?" + query)
        assert response.status_code == 200, query
        assert _names(response) == expected, query


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "cf_budget=lots",
        "cf_budget=NaN",
        "cf_budget=1e999",
        "cf_met_on=2024-13-45",
        "cf_met_on=0001-01-01",
        "cf_vip=perhaps",
        "cf_tier=bronze",
    ],
)
def test_bad_custom_field_filter_is_shown_not_a_500(client, sales_user, typed_fields, query):
    CustomerFactory(name="Someone", owner=sales_user, attributes={"budget": 1})
    client.force_login(sales_user)
    response = client.get(reverse("customers:index") + "?" + query)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="filter-errors"' in body
    assert _names(response) == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("cf_budget", "lots"), ("cf_budget", "1e999"), ("cf_met_on", "2024-02-30"), ("cf_tier", "bronze")],
)
def test_customer_form_refuses_bad_custom_values(sales_user, typed_fields, field, value):
    from customers.forms import CustomerForm

    form = CustomerForm(
        data={
            "kind": "person",
            "name": "X",
            "gender": "unknown",
            "lifecycle_stage": "lead",
            "source": "web",
            field: value,
        },
        user=sales_user,
    )
    assert not form.is_valid()
    assert field in form.errors


@pytest.mark.django_db
def test_customer_form_stores_typed_custom_values(sales_user, typed_fields):
    from customers.forms import CustomerForm

    data = {
        "kind": "person",
        "name": "X",
        "gender": "unknown",
        "lifecycle_stage": "lead",
        "source": "web",
        "cf_budget": "12.5",
        "cf_met_on": "2024-02-29",
        "cf_vip": "yes",
        "cf_tier": "gold",
    }
    form = CustomerForm(data=data, user=sales_user)
    assert form.is_valid(), form.errors
    assert form.service_fields()["attributes"] == {
        "budget": 12.5,
        "met_on": "2024-02-29",
        "vip": True,
        "tier": "gold",
    }


@pytest.mark.django_db
def test_export_with_bad_filter_answers_400_naming_the_field(client, sales_user, own_customer):
    client.force_login(sales_user)
    response = client.get(reverse("customers:customer-export", args=["csv"]) + "?stage=royalty")
    assert response.status_code == 400
    assert "stage" in response.content.decode()
