"""The interactions app's personal-data handler (issue 13): text emptied, files deleted from storage."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm_site.personal_data import personal_data
from customers.tests.factories import CustomerFactory
from sessions_log.models import Attachment, FollowUp, Interaction, UnmatchedItem

pytestmark = pytest.mark.django_db


def _handler():
    return next(handler for handler in personal_data.handlers() if handler.key == "sessions_log")


def test_erase_empties_interactions_and_deletes_files(
    sales_user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    customer = CustomerFactory(owner=sales_user)
    call = Interaction.objects.create(customer=customer, channel="call", subject="Mr Gao", body="likes tea",
                                      counterpart="13900001234", transcript=[{"text": "hello Gao"}],
                                      staff=sales_user)  # fmt: skip
    mail = UnmatchedItem.objects.create(channel="email", counterpart="gao@example.com", body="Gao here",
                                        interaction=call)  # fmt: skip
    files = [
        Attachment.objects.create(interaction=call, name="a.pdf", content_type="application/pdf", size=9,
                                  file=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n")),
        Attachment.objects.create(unmatched=mail, name="b.pdf", content_type="application/pdf", size=9,
                                  file=SimpleUploadedFile("b.pdf", b"%PDF-1.4\n")),
    ]  # fmt: skip
    paths = [Path(attachment.file.path) for attachment in files]
    first = FollowUp.objects.create(customer=customer, title="Call Gao", due_at=timezone.now())
    FollowUp.objects.create(customer=customer, title="Call Gao again", previous=first,
                            due_at=timezone.now() + timedelta(days=1))  # fmt: skip
    exported = _handler().export(customer.pk)
    assert exported["interactions"][0]["body"] == "likes tea"
    assert len(exported["attachments"]) == 1 and len(exported["follow_ups"]) == 2

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the erasure commits
        counts = _handler().erase(customer.pk, request=None)
    assert counts == {
        "attachments": 2,
        "interactions": 1,
        "unmatched_items": 1,
        "inbox_items": 0,
        "follow_ups": 2,
    }
    assert not any(path.exists() for path in paths)
    call.refresh_from_db()
    assert (call.subject, call.body, call.counterpart, call.transcript) == ("", "", "", [])
    assert call.channel == "call"
    mail.refresh_from_db()
    assert (mail.counterpart, mail.body) == ("", "")
    assert _handler().erase(customer.pk, request=None) == dict.fromkeys(counts, 0)


def test_inbox_items_from_the_customers_address_are_exported_then_deleted(sales_user, settings, tmp_path):
    from customers.services import customer_create

    settings.MEDIA_ROOT = str(tmp_path)
    email = {"kind": "email", "value": "Gao.Min@example.com"}
    customer = customer_create(name="Gao Min", owner=sales_user, contact_methods=[email])
    waiting = UnmatchedItem.objects.create(channel="email", counterpart="gao.min@example.com", body="hi")
    Attachment.objects.create(unmatched=waiting, name="c.pdf", content_type="application/pdf", size=9,
                              file=SimpleUploadedFile("c.pdf", b"%PDF-1.4\n"))  # fmt: skip
    stranger = UnmatchedItem.objects.create(channel="email", counterpart="someone@example.com", body="hello")
    assert [row["body"] for row in _handler().export(customer.pk)["inbox_items"]] == ["hi"]
    counts = _handler().erase(customer.pk, request=None)
    assert counts["inbox_items"] == 1 and counts["attachments"] == 1
    assert list(UnmatchedItem.objects.all()) == [stranger]
