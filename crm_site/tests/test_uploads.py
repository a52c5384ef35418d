"""The one upload reader: a GB18030 file (Chinese Excel's CSV) imports through every import page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm_site.uploads import UploadError, decode_upload
from customers.models import Customer, CustomerImport
from customers.tests.factories import CustomerFactory
from orders.models import OrderImport, SalesOrder
from orders.tests.factories import ProductFactory
from profiles.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _upload(text: str, name: str = "gb.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("gb18030"), content_type="text/csv")


def test_customer_import_page_reads_a_gb18030_file(client, sales_user, django_capture_on_commit_callbacks):
    client.force_login(sales_user)
    text = "external_id,name\nG1,王五\n"
    refused = client.post(
        reverse("customers:import-create"), {"file": _upload(text), "encoding": "utf-8-sig"}
    )
    assert refused.status_code == 200 and "not valid UTF-8" in refused.content.decode()
    response = client.post(reverse("customers:import-create"), {"file": _upload(text), "encoding": "gb18030"})
    job = CustomerImport.objects.get()
    assert response.status_code == 302 and job.headers == ["external_id", "name"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(job.get_absolute_url(), {"name": "name", "external_id": "external_id"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:import-commit", args=[job.pk]))
    assert Customer.objects.get(external_id="G1").name == "王五"


def test_order_import_page_reads_a_gb18030_file(client, sales_user, django_capture_on_commit_callbacks):
    CustomerFactory(owner=sales_user, external_id="C-GB", name="王五")
    ProductFactory(sku="PH-1", unit_price=Decimal("1999.00"))
    text = "customer_external_id,customer_name,order_number,order_date,sku,quantity,amount,channel\n"
    text += "C-GB,王五,GB-1,2025-11-11,PH-1,1,1999.00,app\n"
    client.force_login(sales_user)
    data = {"dry_run": "", "create_customers": ""}
    refused = client.post(reverse("orders:import-create"), {**data, "file": _upload(text)})
    assert refused.status_code == 200 and "not valid UTF-8" in refused.content.decode()
    assert not OrderImport.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orders:import-create"), {**data, "file": _upload(text), "encoding": "gb18030"}
        )
    job = OrderImport.objects.get()
    assert response.status_code == 302 and job.encoding == "gb18030"
    assert job.status == OrderImport.Status.DONE, job.errors
    assert SalesOrder.objects.get(number="GB-1").total == Decimal("1999.00")


def test_event_import_page_reads_a_gb18030_file(client, manager_user):
    customer = CustomerFactory(owner=manager_user, external_id="P-GB")
    text = "customer_external_id,event_type,occurred_at,query\nP-GB,search,2025-01-02,手机\n"
    client.force_login(manager_user)
    refused = client.post(reverse("profiles:event-import"), {"file": _upload(text)})
    assert refused.status_code == 200 and "not valid UTF-8" in refused.content.decode()
    response = client.post(reverse("profiles:event-import"), {"file": _upload(text), "encoding": "gb18030"})
    assert response.status_code == 302
    assert Event.objects.get(customer=customer).properties["query"] == "手机"


def test_decode_upload_names_the_encoding_and_refuses_binary_and_unknown_encodings():
    assert decode_upload("手机".encode("gb18030"), "gb18030") == "手机"
    assert decode_upload("\ufeffa,b".encode(), "utf-8-sig") == "a,b"
    with pytest.raises(UploadError, match="not valid GB18030"):
        decode_upload(b"\x81\x30", "gb18030")
    with pytest.raises(UploadError, match="binary"):
        decode_upload(b"a\x00b", "gb18030")
    with pytest.raises(UploadError, match="Unknown encoding"):
        decode_upload(b"a", "latin-1")
