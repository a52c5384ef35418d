import pytest
from django.contrib import admin
from django.test import RequestFactory

from customers.admin import CustomerAdmin, PartnerAdmin
from customers.forms.customers import CustomerForm, PartnerForm
from customers.models import Customer, Partner


@pytest.mark.django_db
def test_customer_form_completes_a_web_site_without_scheme_with_https(sales_user):
    form = CustomerForm(
        data={
            "kind": "company",
            "name": "Acme Trading (Shanghai)",
            "gender": "unknown",
            "lifecycle_stage": "lead",
            "source": "web",
            "website": "acme.example.com",
        },
        user=sales_user,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["website"] == "https://acme.example.com"


def test_partner_form_completes_a_web_site_without_scheme_with_https():
    data = {"kind": "reseller", "name": "Northwind Supply", "website": "northwind.example.com"}
    form = PartnerForm(data=data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["website"] == "https://northwind.example.com"


@pytest.mark.django_db
@pytest.mark.parametrize(("model_admin", "model"), [(CustomerAdmin, Customer), (PartnerAdmin, Partner)])
def test_admin_completes_a_web_site_without_scheme_with_https(model_admin, model, make_user):
    request = RequestFactory().get("/")
    request.user = make_user("boss", "Manager", is_superuser=True)
    form_class = model_admin(model, admin.site).get_form(request)
    field = form_class.base_fields["website"]
    assert field.clean("shop.example.com") == "https://shop.example.com"


@pytest.mark.django_db
def test_every_contact_and_address_row_input_has_an_accessible_name(client, sales_user):
    """The inline rows are a table whose header cells are no labels: each input carries its own name."""
    import re

    from customers.tests.factories import ContactMethodFactory, CustomerFactory

    customer = CustomerFactory(owner=sales_user)
    ContactMethodFactory(customer=customer, kind="mobile", value="13912345678")
    client.force_login(sales_user)
    html = client.get(f"{customer.get_absolute_url()}edit/").content.decode()
    rows = re.findall(r"<(?:input|select|textarea)\b[^>]*name=\"(?:contacts|addresses)-\d+-[^>]*>", html)
    visible = [tag for tag in rows if 'type="hidden"' not in tag]
    assert len(visible) >= 2 * (5 + 1) + 1 * (8 + 1), "two contact rows and one address row"
    unnamed = [tag for tag in visible if "aria-label=" not in tag]
    assert not unnamed, unnamed
    assert 'aria-label="Value, row 1"' in html and 'aria-label="Street, row 1"' in html
