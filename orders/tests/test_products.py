"""The product catalogue: every staff role reads it, only managers change it (issue 9)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from orders.models import Product
from orders.tests.factories import ProductFactory, SalesOrderFactory


def _product_data(**overrides):
    data = {
        "sku": "NEW-1",
        "name": "New thing",
        "category": "",
        "unit_price": "12.50",
        "currency": "CNY",
        "active": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "writes"),
    [
        ("Sales", {"add_salesorder", "change_salesorder"}),
        ("Service", {"add_serviceorder", "change_serviceorder"}),
    ],
)
def test_only_managers_hold_the_catalogue_permissions(roles, role, writes):
    """Roles that write orders or tickets read the catalogue; only managers change it (docs/roles.md)."""
    group = Group.objects.get(name=role)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_product", "view_productcategory", *writes} <= codenames
    assert not codenames & {"add_product", "change_product", "add_productcategory", "change_productcategory"}
    manager = set(Group.objects.get(name="Manager").permissions.values_list("codename", flat=True))
    assert {"add_product", "change_product", "delete_product"} <= manager


@pytest.mark.django_db
def test_sales_user_cannot_set_a_products_price(client, sales_user, phone):
    client.force_login(sales_user)
    url = reverse("orders:product-edit", args=[phone.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, _product_data(sku=phone.sku, name=phone.name, unit_price="0.01"))
    assert response.status_code == 403
    phone.refresh_from_db()
    assert phone.unit_price == Decimal("1999.00")


@pytest.mark.django_db
def test_sales_user_cannot_create_products(client, sales_user):
    client.force_login(sales_user)
    assert client.get(reverse("orders:product-create")).status_code == 403
    assert client.post(reverse("orders:product-create"), _product_data()).status_code == 403
    assert not Product.objects.filter(sku="NEW-1").exists()


@pytest.mark.django_db
def test_sales_user_reads_the_catalogue_without_edit_links(client, sales_user, phone):
    client.force_login(sales_user)
    response = client.get(reverse("orders:product-list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert phone.sku in body
    assert reverse("orders:product-edit", args=[phone.pk]) not in body
    assert reverse("orders:product-create") not in body


@pytest.mark.django_db
def test_sales_user_still_adds_catalogue_products_to_orders(client, sales_user, own_customer, phone):
    order = SalesOrderFactory(customer=own_customer, status="draft")
    client.force_login(sales_user)
    response = client.post(
        reverse("orders:orderline-add", args=[order.pk]),
        {"product": phone.pk, "quantity": 2, "discount": "0"},
    )
    assert response.status_code == 302
    assert order.lines.get().unit_price == Decimal("1999.00")


@pytest.mark.django_db
def test_manager_creates_and_edits_products(client, manager_user, phones):
    client.force_login(manager_user)
    list_url = reverse("orders:product-list")
    assert reverse("orders:product-create") in client.get(list_url).content.decode()
    response = client.post(reverse("orders:product-create"), _product_data(category=str(phones.pk)))
    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-1")
    assert (product.unit_price, product.category) == (Decimal("12.50"), phones)
    response = client.post(
        reverse("orders:product-edit", args=[product.pk]), _product_data(unit_price="20", name="Renamed")
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.unit_price, product.name) == (Decimal("20.00"), "Renamed")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("unit_price", "-1"), ("unit_price", "abc"), ("sku", ""), ("currency", "XXX")],
)
def test_product_form_errors_name_the_field_and_write_nothing(client, manager_user, field, value):
    client.force_login(manager_user)
    response = client.post(reverse("orders:product-create"), _product_data(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_duplicate_sku_is_a_form_error(client, manager_user):
    ProductFactory(sku="DUP-1")
    client.force_login(manager_user)
    response = client.post(reverse("orders:product-create"), _product_data(sku="DUP-1"))
    assert response.status_code == 200
    assert "sku" in response.context["form"].errors
    assert Product.objects.filter(sku="DUP-1").count() == 1


@pytest.mark.django_db
def test_product_admin_follows_the_same_rule(client, make_user, manager_user, phone):
    staff_sales = make_user("sales_staff", "Sales", is_staff=True)
    url = f"/admin/orders/product/{phone.pk}/change/"
    client.force_login(staff_sales)
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    client.force_login(manager_user)
    assert client.get(url).status_code == 200
