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


# ----------------------------------------------------------------- 2. files deleted only when erasure commits


class LaterStepFailed(Exception):
    pass


@pytest.fixture
def failing_last_handler():
    """A real handler registered last in the erasure order (lowest ``order``) that fails."""
    from crm_site.personal_data import PersonalDataHandler, personal_data

    def erase(customer_id, *, request):
        raise LaterStepFailed

    personal_data.register(PersonalDataHandler(key="zz_fails", label="fails", export=lambda pk: {},
                                               erase=erase, order=-1))  # fmt: skip
    yield
    personal_data._handlers.pop("zz_fails")


def test_a_rolled_back_erasure_keeps_the_archive_and_attachment_files(
    wang, sales_user, manager_user, media, failing_last_handler, django_capture_on_commit_callbacks
):
    from customers.models import DataSubjectRequest
    from customers.services.privacy import dsr_export
    from sessions_log.models import Attachment, Interaction

    access = dsr_create(customer=wang, kind="access", law="pipl", received_via="email", user=manager_user)
    dsr_export(request=access, user=manager_user)
    archive = DataSubjectRequest.objects.get(pk=access.pk).archive.name
    interaction = Interaction.objects.create(customer=wang, channel="email", subject="Hi", staff=sales_user)
    upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n")
    attachment = Attachment.objects.create(interaction=interaction, name="a.pdf", size=9, file=upload)
    request = dsr_create(customer=wang, kind="erasure", law="pipl", received_via="email", user=manager_user)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(LaterStepFailed):
        dsr_erase(request=request, user=manager_user)

    assert default_storage.exists(archive) and default_storage.exists(attachment.file.name)
    assert DataSubjectRequest.objects.get(pk=access.pk).archive.name == archive
    assert Attachment.objects.filter(pk=attachment.pk).exists()


# ------------------------------------------------------------- 3, 4. suppression on edits of existing rows


@pytest.fixture
def erased(wang, manager_user, django_capture_on_commit_callbacks):
    _erase(wang, manager_user, django_capture_on_commit_callbacks)
    return wang


def test_editing_an_existing_contact_to_an_erased_value_is_refused(erased, sales_user):
    from django.core.exceptions import ValidationError

    from customers.models import ContactMethod
    from customers.services.customers import contact_method_save

    other = CustomerFactory(owner=sales_user, name="Other")
    mobile = ContactMethodFactory(customer=other, kind="mobile", value="13911112222")
    with pytest.raises(ValidationError, match="cannot be used"):
        contact_method_save(customer=other, id=mobile.pk, value="+86 138 0013 8000")
    wechat = ContactMethodFactory(customer=other, kind="wechat", value=EMAIL)
    with pytest.raises(ValidationError, match="cannot be used"):
        contact_method_save(customer=other, id=wechat.pk, kind="email")
    assert ContactMethod.objects.get(pk=mobile.pk).value == "13911112222"
    assert ContactMethod.objects.get(pk=wechat.pk).kind == "wechat"
    # Unchanged kind and value (a label edit) and a value nobody erased still save.
    assert contact_method_save(customer=other, id=wechat.pk, label="home").label == "home"
    assert contact_method_save(customer=other, id=mobile.pk, value="13911113333").value == "13911113333"


def test_updating_a_customer_to_an_erased_external_id_is_refused(erased, sales_user):
    from django.core.exceptions import ValidationError

    from customers.models import Customer
    from customers.services.customers import customer_update

    other = CustomerFactory(owner=sales_user, name="Other", external_id="EXT-OTHER")
    with pytest.raises(ValidationError, match="cannot be used"):
        customer_update(customer=Customer.objects.get(pk=other.pk), external_id="EXT-9")
    assert Customer.objects.get(pk=other.pk).external_id == "EXT-OTHER"
    assert (
        customer_update(customer=Customer.objects.get(pk=other.pk), external_id="EXT-10").external_id
        == "EXT-10"
    )
    assert customer_update(
        customer=Customer.objects.get(pk=other.pk), external_id="EXT-10", name="Renamed"
    ).name


# ------------------------------------------------------------------------------- 5. admin pages masked


STREET = "Zz Secret Street 9"
FULL_VALUES = (MOBILE, EMAIL, ID_NUMBER, STREET, "1990-03-07")


@pytest.fixture
def masked_manager(manager_user):
    from django.contrib.auth.models import Permission
    from django.test import Client

    manager_user.groups.get().permissions.remove(Permission.objects.get(codename="view_pii_customer"))
    client = Client()
    client.force_login(manager_user)
    return client


def _page(client, url) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, url
    text = answer.content.decode()
    for value in FULL_VALUES:
        assert value not in text, f"full value {value!r} on {url}"
    return text


def test_admin_interactions_inbox_and_merges_are_masked_without_view_pii(
    masked_manager, sales_user, manager_user, media
):
    import datetime

    from django.urls import reverse

    from customers.services.merge import customer_merge
    from customers.tests.factories import AddressFactory
    from sessions_log.models import Attachment, Interaction, UnmatchedItem

    customer = CustomerFactory(owner=sales_user, name="Wang Fang")
    interaction = Interaction.objects.create(customer=customer, channel="email", direction="outbound",
                                             email_to=EMAIL, counterpart=EMAIL, subject="Hello",
                                             staff=sales_user)  # fmt: skip
    item = UnmatchedItem.objects.create(
        channel="call", counterpart=MOBILE, subject="Ring", received_by=sales_user
    )
    upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n")
    attachment = Attachment.objects.create(unmatched=item, name="a.pdf", size=9, file=upload)
    loser = CustomerFactory(owner=sales_user, name="Loser", id_number=ID_NUMBER,
                            birth_date=datetime.date(1990, 3, 7))  # fmt: skip
    ContactMethodFactory(customer=loser, kind="mobile", value=MOBILE)
    AddressFactory(customer=loser, street=STREET)
    merge = customer_merge(survivor=customer, loser=loser, by=sales_user)

    page = _page(masked_manager, reverse("admin:sessions_log_interaction_change", args=[interaction.pk]))
    assert "w***@example.com" in page
    _page(masked_manager, reverse("admin:sessions_log_interaction_changelist"))
    assert "138****8000" in _page(masked_manager, reverse("admin:sessions_log_unmatcheditem_changelist"))
    assert "138****8000" in _page(
        masked_manager, reverse("admin:sessions_log_unmatcheditem_change", args=[item.pk])
    )
    _page(masked_manager, reverse("admin:sessions_log_unmatcheditem_history", args=[item.pk]))
    _page(masked_manager, reverse("admin:sessions_log_attachment_changelist"))
    _page(masked_manager, reverse("admin:sessions_log_attachment_change", args=[attachment.pk]))
    page = _page(masked_manager, reverse("admin:customers_customermerge_change", args=[merge.pk]))
    assert "138****8000" in page and "1990-**-**" in page
    # Staff holding view_pii (a superuser holds every permission) still read the full snapshot.
    from django.contrib.auth import get_user_model
    from django.test import Client

    full = Client()
    full.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x-Long-pass-9"))
    assert (
        MOBILE in full.get(reverse("admin:customers_customermerge_change", args=[merge.pk])).content.decode()
    )


# ------------------------------------------------------------------------- 6. no admin search oracle


def test_admin_search_by_a_masked_value_finds_nothing_without_view_pii(masked_manager, sales_user):
    from django.urls import reverse

    from customers.tests.factories import AddressFactory

    customer = CustomerFactory(owner=sales_user, name="Wang Fang", external_id="EXT-9")
    ContactMethodFactory(customer=customer, kind="mobile", value=MOBILE)
    AddressFactory(customer=customer, street=STREET, postal_code="100080")
    contacts = reverse("admin:customers_contactmethod_changelist")
    addresses = reverse("admin:customers_address_changelist")
    # (The page repeats the query itself, so only the rows are looked for.)
    for query in ("1380", "13800138000"):
        assert "138****8000" not in masked_manager.get(f"{contacts}?q={query}").content.decode()
    for query in ("Secret", "100080"):
        assert "Wang Fang" not in masked_manager.get(f"{addresses}?q={query}").content.decode()
    # The customer's name and external id still find the rows.
    assert "138****8000" in _page(masked_manager, f"{contacts}?q=Wang")
    assert "Wang Fang" in _page(masked_manager, f"{addresses}?q=EXT-9")
    customers = reverse("admin:customers_customer_changelist")
    assert "Wang Fang" not in masked_manager.get(f"{customers}?q={MOBILE}").content.decode()
    assert "Wang Fang" in _page(masked_manager, f"{customers}?q=EXT-9")


# --------------------------------------------------------------------------- 7. never stored in a cache


def test_reveal_and_archive_download_are_never_cached(wang, make_user, manager_user, media):
    from django.test import Client
    from django.urls import reverse

    from customers.services.privacy import dsr_export

    marketing = Client()
    marketing.force_login(make_user("mkt", "Marketing"))
    contact = wang.contact_methods.get(kind="mobile")
    url = reverse("customers:customer-reveal", args=[wang.pk])
    answers = [
        marketing.post(
            url, {"field": f"contact:{contact.pk}", "reason": "called"}, HTTP_ACCEPT="application/json"
        ),
        marketing.get(url, {"field": f"contact:{contact.pk}"}),
    ]
    access = dsr_create(customer=wang, kind="access", law="pipl", received_via="email", user=manager_user)
    dsr_export(request=access, user=manager_user)
    manager = Client()
    manager.force_login(manager_user)
    answers.append(manager.get(reverse("customers:privacy-request-download", args=[access.pk])))
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json()["value"] == MOBILE
    for answer in answers:
        assert "no-store" in answer["Cache-Control"] and "private" in answer["Cache-Control"]
