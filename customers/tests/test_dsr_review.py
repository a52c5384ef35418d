"""Issue 13 security review: erasure, suppression, masking and caching gaps found and closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import CustomerImport
from customers.services.privacy import dsr_create, dsr_erase
from customers.tests.factories import ContactMethodFactory, CustomerFactory

pytestmark = pytest.mark.django_db

MOBILE = "13800138000"
EMAIL = "wang.fang@example.com"
ID_NUMBER = "110101199003077777"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def wang(sales_user):
    customer = CustomerFactory(owner=sales_user, name="Wang Fang", external_id="EXT-9", id_number=ID_NUMBER)
    ContactMethodFactory(customer=customer, kind="mobile", value=MOBILE)
    ContactMethodFactory(customer=customer, kind="email", value=EMAIL)
    return customer


def _erase(customer, manager, capture):
    request = dsr_create(customer=customer, kind="erasure", law="pipl", received_via="email", user=manager)
    with capture(execute=True):
        return dsr_erase(request=request, user=manager)


# ------------------------------------------------------------------------------- 1. import files and errors


def test_erasure_deletes_finished_import_files_that_mention_the_person(
    wang, sales_user, manager_user, media, django_capture_on_commit_callbacks
):
    from customers.services.imports import customer_import_create

    body = f"name,mobile,email\nWang Fang,+86 138 0013 8000,\nSomeone,13900001111,{EMAIL.upper()}\n"
    job = customer_import_create(upload=SimpleUploadedFile("c.csv", body.encode(), "text/csv"),
                                 encoding="utf-8", user=sales_user)  # fmt: skip
    CustomerImport.objects.filter(pk=job.pk).update(
        status=CustomerImport.Status.DONE,
        errors=[{"row": 2, "field": "mobile", "message": "x"}, {"row": 4, "field": "name", "message": "y"}],
    )
    unrelated = customer_import_create(upload=SimpleUploadedFile("d.csv", b"name,mobile\nLi,13911112222\n",
                                       "text/csv"), encoding="utf-8", user=sales_user)  # fmt: skip
    CustomerImport.objects.filter(pk=unrelated.pk).update(status=CustomerImport.Status.DONE)
    waiting = customer_import_create(upload=SimpleUploadedFile("e.csv", body.encode(), "text/csv"),
                                     encoding="utf-8", user=sales_user)  # fmt: skip
    name, unrelated_name, waiting_name = job.file.name, unrelated.file.name, waiting.file.name

    _erase(wang, manager_user, django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert not job.file and not default_storage.exists(name)
    assert job.errors == [{"row": 4, "field": "name", "message": "y"}]
    assert job.status == CustomerImport.Status.DONE
    assert default_storage.exists(unrelated_name)  # nothing about the person in it
    assert default_storage.exists(waiting_name)  # still being worked on: suppression checks its rows


def test_erasure_deletes_finished_order_import_files(
    wang, sales_user, manager_user, media, django_capture_on_commit_callbacks
):
    from orders.models import OrderImport

    job = OrderImport(owner=sales_user, original_name="o.csv", status=OrderImport.Status.DONE,
                      errors=[{"row": 2, "field": "customer", "message": f"unknown {EMAIL}"},
                              {"row": 3, "field": "quantity", "message": "not a number"}])  # fmt: skip
    job.file.save("o.csv", ContentFile(f"customer_external_id,phone\nEXT-9,{MOBILE}\nEXT-1,1\n".encode()))
    name = job.file.name

    _erase(wang, manager_user, django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert not job.file and not default_storage.exists(name)
    assert job.errors == [{"row": 3, "field": "quantity", "message": "not a number"}]
