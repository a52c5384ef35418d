"""Files on interactions: the limits, bad files, nothing half-written, and who may download or remove one."""

from __future__ import annotations

import errno
import html
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import CustomerShare
from customers.tests.factories import CustomerFactory
from sessions_log.attachments import MAX_PER_INTERACTION, attachment_store, attachments_atomic
from sessions_log.models import Attachment, Interaction, UnmatchedItem

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
# The first bytes of a Windows program (the DOS header), the rest padding.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\xb8" + b"\x00" * 200


@pytest.fixture
def media(settings, tmp_path):
    """A throw-away MEDIA_ROOT: every file the test stores lands (or not) here."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def stored(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())


@pytest.fixture
def customer(sales_user):
    return CustomerFactory(owner=sales_user, name="Files Customer")


def _file(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _log(client, customer, files, *, channel="visit", json=False, **fields):
    data = {f"log-{channel}-subject": "Showroom visit", f"log-{channel}-attachments": files}
    data |= {f"log-{channel}-{name}": value for name, value in fields.items()}
    headers = {"Accept": "application/json"} if json else {}
    url = reverse("sessions_log:interaction-log", args=[customer.pk, channel])
    return client.post(url, data, headers=headers)


def _attachment(interaction, *, name="offer.pdf", content=PDF, content_type="application/pdf", user=None):
    with attachments_atomic():
        return attachment_store(
            content=content, name=name, content_type=content_type, interaction=interaction, user=user
        )


def test_a_visit_is_logged_with_its_files(client, sales_user, customer, media):
    client.force_login(sales_user)
    response = _log(
        client,
        customer,
        [_file("offer.pdf", PDF), _file("shop front.png", PNG, "image/png")],
        place="Nanjing Rd",
    )
    assert response.status_code == 302
    interaction = Interaction.objects.get(customer=customer)
    files = list(interaction.attachments.order_by("name"))
    assert [(f.name, f.content_type, f.size) for f in files] == [
        ("offer.pdf", "application/pdf", len(PDF)),
        ("shop front.png", "image/png", len(PNG)),
    ]
    assert all(f.uploaded_by == sales_user for f in files)
    # Stored under MEDIA_ROOT/attachments/ by the row's id, not by the sender's name.
    assert sorted(path.read_bytes() for path in stored(media)) == sorted([PDF, PNG])
    assert {path.relative_to(media).parts[0] for path in stored(media)} == {"attachments"}
    assert {path.name for path in stored(media)} == {f"{f.pk.hex}{Path(f.name).suffix}" for f in files}


def test_the_in_place_update_takes_files_and_lists_them(client, sales_user, customer, media):
    client.force_login(sales_user)
    response = _log(
        client, customer, [_file("价格表.pdf", PDF)], channel="call", json=True, direction="outbound"
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] is True
    assert "价格表.pdf" in answer["html"]
    assert Interaction.objects.get(customer=customer).attachments.count() == 1


BAD_FILES = {
    "too big": (
        _file("scan.pdf", PDF + b"0" * (3072 - len(PDF))),
        "“scan.pdf” is 3.0\xa0KB; at most 2.0\xa0KB per file.",
    ),
    "empty": (_file("empty.pdf", b""), "“empty.pdf” is empty."),
    "wrong type": (
        _file("setup.exe", EXE, "application/x-msdownload"),
        "“setup.exe” is of a type that cannot be attached (application/x-msdownload).",
    ),
    "a program renamed .pdf": (
        _file("invoice.pdf", EXE, "application/pdf"),
        "“invoice.pdf” says it is application/pdf but its content is not.",
    ),
    "a program renamed .txt": (
        _file("notes.txt", EXE, "text/plain"),
        "“notes.txt” says it is text/plain but its content is not.",
    ),
    "a PNG that is not one": (
        _file("photo.png", b"<html><script>alert(1)</script></html>", "image/png"),
        "“photo.png” says it is image/png but its content is not.",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_by_name_and_nothing_is_written(
    client, sales_user, customer, media, settings, case
):
    settings.CRM_ATTACHMENT_MAX_BYTES = 2048
    bad, message = BAD_FILES[case]
    bad.seek(0)
    client.force_login(sales_user)
    response = _log(client, customer, [_file("fine.pdf", PDF), bad], json=True)
    assert response.status_code == 400
    answer = response.json()
    assert answer["ok"] is False
    assert message in answer["message"]
    assert answer["errors"]["attachments"] == [message]
    assert not Interaction.objects.filter(customer=customer).exists()
    assert not Attachment.objects.exists()
    assert stored(media) == []


def test_without_javascript_the_refusal_is_flashed_on_the_customer_page(client, sales_user, customer, media):
    client.force_login(sales_user)
    response = _log(client, customer, [_file("empty.pdf", b"")])
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "“empty.pdf” is empty." in page.content.decode()
    assert not Interaction.objects.exists()


def test_a_too_big_upload_is_a_form_error_naming_it_with_its_real_size(
    client, sales_user, customer, media, settings
):
    """Through Django's multipart parser: past the limit the bytes are dropped, the size still counted."""
    settings.CRM_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = _file("site plan.pdf", PDF + b"0" * (3 * 1024 * 1024))
    client.force_login(sales_user)
    response = _log(client, customer, [big], json=True)
    assert response.status_code == 400
    assert "“site plan.pdf” is 3.0\xa0MB; at most 1.0\xa0MB per file." in response.json()["message"]
    assert stored(media) == [] and not Interaction.objects.exists()


def test_a_file_kept_on_disk_while_uploading_is_stored_whole(client, sales_user, customer, media, settings):
    """Past FILE_UPLOAD_MAX_MEMORY_SIZE Django spools to a temporary file, behind the attachment handler."""
    content = PDF + bytes(range(256)) * (6 * 4096)  # 6 MB: on disk while uploading, under the 10 MB limit
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE < len(content) < settings.CRM_ATTACHMENT_MAX_BYTES
    client.force_login(sales_user)
    assert _log(client, customer, [_file("plan.pdf", content)], json=True).status_code == 200
    (path,) = stored(media)
    assert path.read_bytes() == content
    assert Attachment.objects.get().size == len(content)


def test_eleven_files_are_refused(client, sales_user, customer, media):
    client.force_login(sales_user)
    files = [_file(f"page-{i}.pdf", PDF) for i in range(MAX_PER_INTERACTION + 1)]
    response = _log(client, customer, files, json=True)
    assert response.status_code == 400
    assert "At most 10 files per interaction; 11 chosen" in response.json()["message"]
    assert not Interaction.objects.exists() and stored(media) == []


def test_ten_files_are_fine(client, sales_user, customer, media):
    client.force_login(sales_user)
    files = [_file(f"page-{i}.pdf", PDF) for i in range(MAX_PER_INTERACTION)]
    assert _log(client, customer, files, json=True).status_code == 200
    assert len(stored(media)) == MAX_PER_INTERACTION


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
        ("/tmp/evil.txt", "evil.txt"),
        (".hidden.txt", "hidden.txt"),
    ],
)
def test_a_path_in_the_name_never_leaves_the_attachments_folder(
    client, sales_user, customer, media, tmp_path, sent, kept
):
    client.force_login(sales_user)
    response = _log(client, customer, [_file(sent, b"plain words\n", "text/plain")], json=True)
    assert response.status_code == 200, response.content
    attachment = Attachment.objects.get()
    assert attachment.name == kept
    (path,) = stored(media)
    assert path.parent.parent.parent == media / "attachments"  # attachments/<year>/<month>/<id>.txt
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == {path}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd.txt", "passwd.txt"),
        ("..", "attachment"),
        ("", "attachment"),
        ("line\nbreak\x00.txt", "linebreak.txt"),
        ("C:\\Users\\a\\..\\..\\boot.txt", "boot.txt"),
        ("a" * 300 + ".txt", "a" * 251 + ".txt"),
    ],
)
def test_a_mailed_file_name_is_cleaned_the_same_way(sales_user, customer, media, sent, kept):
    """Mail in hands names straight from the message (no multipart parser cleaned them first)."""
    interaction = Interaction.objects.create(customer=customer, channel="email", staff=sales_user)
    attachment = _attachment(interaction, name=sent, content=b"text\n", content_type="text/plain")
    assert attachment.name == kept
    (path,) = stored(media)
    assert path.is_relative_to(media / "attachments")
    assert path.name == attachment.pk.hex + Path(kept).suffix


class FailingStorage(FileSystemStorage):
    """A disk that fills up: the second file of a request cannot be written."""

    saves = 0

    def _save(self, name, content):
        type(self).saves += 1
        if type(self).saves >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super()._save(name, content)


def test_a_file_that_cannot_be_stored_leaves_no_interaction_and_no_file(
    client, sales_user, customer, media, settings
):
    FailingStorage.saves = 0
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.FailingStorage"},
    }
    client.force_login(sales_user)
    files = [_file("one.pdf", PDF), _file("two.pdf", PDF), _file("three.pdf", PDF)]
    due = "2030-01-02T10:00"
    response = _log(client, customer, files, json=True, follow_up_title="Send the offer", follow_up_due=due)
    assert response.status_code == 400
    assert (
        "“two.pdf” could not be stored (No space left on device); nothing was saved."
        in (response.json()["message"])
    )
    assert FailingStorage.saves == 2  # the first file was written, then taken back
    assert not Interaction.objects.exists()
    assert not customer.follow_ups.exists()
    assert not Attachment.objects.exists()
    assert stored(media) == []


def test_a_chinese_file_name_survives_the_round_trip(client, sales_user, customer, media):
    client.force_login(sales_user)
    _log(client, customer, [_file("报价单 2026年.pdf", PDF)])
    attachment = Attachment.objects.get()
    assert attachment.name == "报价单 2026年.pdf"
    response = client.get(attachment.get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('报价单 2026年.pdf')}"


def test_the_owner_downloads_with_headers_that_keep_the_browser_from_running_it(
    client, sales_user, customer, media
):
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    attachment = _attachment(
        interaction, name="page.txt", content=b"<script>alert(1)</script>", content_type="text/plain"
    )
    client.force_login(sales_user)
    response = client.get(reverse("sessions_log:attachment-download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="page.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "private" in response["Cache-Control"]
    assert response["Content-Length"] == str(len(b"<script>alert(1)</script>"))


def test_another_sales_user_gets_404_and_a_manager_the_file(
    client, sales_user, other_sales_user, manager_user, customer, media
):
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    attachment = _attachment(interaction, user=sales_user)
    url = attachment.get_absolute_url()
    client.force_login(other_sales_user)
    refused = client.get(url)
    assert refused.status_code == 404 and b"offer.pdf" not in refused.content
    add = reverse("sessions_log:attachment-add", args=[interaction.pk])
    assert client.post(add, {"attachments": [_file("planted.pdf", PDF)]}).status_code == 404
    delete = reverse("sessions_log:attachment-delete", args=[attachment.pk])
    assert client.post(delete).status_code == 404
    assert Attachment.objects.count() == 1
    client.force_login(manager_user)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_a_file_of_an_unmatched_mail_is_for_its_receiver_service_and_managers(
    client, make_user, sales_user, other_sales_user, manager_user, media
):
    service = make_user("svc", "Service")
    marketing = make_user("mkt", "Marketing")
    item = UnmatchedItem.objects.create(
        channel="email", counterpart="who@example.com", received_by=sales_user
    )
    with attachments_atomic():
        attachment = attachment_store(content=PDF, name="order.pdf", content_type="", unmatched=item)
    assert attachment.content_type == "application/pdf"  # from the name when the mail gives no type
    url = attachment.get_absolute_url()
    for user, status in [
        (sales_user, 200),
        (service, 200),
        (manager_user, 200),
        (other_sales_user, 404),
        (marketing, 404),
    ]:
        client.force_login(user)
        assert client.get(url).status_code == status, user.username


def test_service_may_change_the_inbox_files_not_every_file(make_user, sales_user, customer, media):
    """Service works every unmatched item; that does not open the files of every customer's interactions."""
    service = make_user("svc", "Service")
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    on_interaction = _attachment(interaction)
    item = UnmatchedItem.objects.create(channel="email", counterpart="x@example.com")
    with attachments_atomic():
        on_item = attachment_store(content=PDF, name="x.pdf", content_type="application/pdf", unmatched=item)
    changeable = set(Attachment.objects.visible_to(service, action="change").values_list("pk", flat=True))
    assert changeable == {on_item.pk}
    visible = set(Attachment.objects.visible_to(service).values_list("pk", flat=True))
    assert visible == {on_item.pk, on_interaction.pk}  # Service reads every customer


def test_files_are_added_to_an_existing_interaction_up_to_the_limit(client, sales_user, customer, media):
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    for i in range(MAX_PER_INTERACTION - 1):
        _attachment(interaction, name=f"p{i}.pdf")
    client.force_login(sales_user)
    add = reverse("sessions_log:attachment-add", args=[interaction.pk])
    response = client.post(add, {"attachments": [_file("a.pdf", PDF), _file("b.pdf", PDF)]})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "At most 10 files per interaction; 2 chosen, room for 1." in page.content.decode()
    assert interaction.attachments.count() == MAX_PER_INTERACTION - 1
    response = client.post(add, {"attachments": [_file("last one.pdf", PDF)]}, follow=True)
    assert "1 file added." in response.content.decode()
    assert interaction.attachments.count() == MAX_PER_INTERACTION
    assert len(stored(media)) == MAX_PER_INTERACTION


def test_a_colleague_who_may_change_the_customer_adds_but_may_not_remove_others_files(
    client, make_user, sales_user, customer, media, django_capture_on_commit_callbacks
):
    colleague = make_user("colleague", "Sales")
    CustomerShare.objects.create(customer=customer, user=colleague)
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    mine = _attachment(interaction, user=sales_user)
    client.force_login(colleague)
    add = reverse("sessions_log:attachment-add", args=[interaction.pk])
    client.post(add, {"attachments": [_file("theirs.pdf", PDF)]})
    theirs = interaction.attachments.get(name="theirs.pdf")
    response = client.post(reverse("sessions_log:attachment-delete", args=[mine.pk]), follow=True)
    assert "Only who uploaded “offer.pdf”, the customer's owner or a manager may remove it." in (
        html.unescape(response.content.decode())
    )
    assert Attachment.objects.filter(pk=mine.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sessions_log:attachment-delete", args=[theirs.pk]))
    assert response.status_code == 302
    assert not Attachment.objects.filter(pk=theirs.pk).exists()
    assert [path.name for path in stored(media)] == [Path(mine.file.name).name]


def test_the_owner_removes_a_file_and_it_leaves_the_storage(
    client, sales_user, customer, media, django_capture_on_commit_callbacks
):
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    attachment = _attachment(interaction)
    client.force_login(sales_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sessions_log:attachment-delete", args=[attachment.pk]), follow=True)
    assert "“offer.pdf” removed." in response.content.decode()
    assert stored(media) == []
    assert client.get(reverse("sessions_log:attachment-delete", args=[attachment.pk])).status_code == 405


def test_deleting_the_customer_removes_its_files_from_storage(
    sales_user, customer, media, django_capture_on_commit_callbacks
):
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    _attachment(interaction)
    with django_capture_on_commit_callbacks(execute=True):
        customer.delete()
    assert stored(media) == []


def test_uploads_need_the_csrf_token(sales_user, customer, media):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(sales_user)
    response = _log(browser, customer, [_file("offer.pdf", PDF)])
    assert response.status_code == 403
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    add = reverse("sessions_log:attachment-add", args=[interaction.pk])
    assert browser.post(add, {"attachments": [_file("offer.pdf", PDF)]}).status_code == 403
    assert not Attachment.objects.exists() and stored(media) == []


def test_files_show_on_the_interaction_the_panel_and_the_timeline(client, sales_user, customer, media):
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    _attachment(interaction, name="合同 contract.pdf", content=PDF + b"0" * (5 * 1024 - len(PDF)))
    client.force_login(sales_user)
    size = "5.0\xa0KB"
    for url in (
        interaction.get_absolute_url(),
        customer.get_absolute_url(),
        reverse("customers:customer-timeline", args=[customer.pk]),
        reverse("sessions_log:index"),
    ):
        text = client.get(url).content.decode()
        assert "合同 contract.pdf" in text and size in text and "application/pdf" in text, url


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("page", ["detail", "timeline", "customer", "index"])
def test_page_queries_do_not_grow_with_the_files(client, sales_user, customer, media, page):
    interactions = [
        Interaction.objects.create(customer=customer, channel="call", staff=sales_user, subject=f"c{i}")
        for i in range(4)
    ]
    url = {
        "detail": interactions[0].get_absolute_url(),
        "timeline": reverse("customers:customer-timeline", args=[customer.pk]),
        "customer": customer.get_absolute_url(),
        "index": reverse("sessions_log:index"),
    }[page]
    client.force_login(sales_user)
    _attachment(interactions[0])
    one = _queries(client, url)
    for interaction in interactions:
        for i in range(3):
            _attachment(interaction, name=f"more-{i}.pdf")
    assert _queries(client, url) == one


def test_the_admin_lists_files_with_download_links(client, manager_user, sales_user, customer, media):
    interaction = Interaction.objects.create(customer=customer, channel="visit", staff=sales_user)
    attachment = _attachment(interaction)
    client.force_login(manager_user)
    listing = client.get(reverse("admin:sessions_log_attachment_changelist")).content.decode()
    assert attachment.get_absolute_url() in listing
    change = client.get(reverse("admin:sessions_log_interaction_change", args=[interaction.pk]))
    assert change.status_code == 200
    assert attachment.get_absolute_url() in change.content.decode()
    assert "/media/" not in change.content.decode()
