"""Email in from a real IMAP server (Dovecot on 127.0.0.1, ``conftest.dovecot_server``): messages are
APPENDed over IMAP, then read by ``fetch_mail``. Threading by In-Reply-To, by References only, by the
signed reply-to address (a provider rewrote Message-ID and dropped both), by the subject code; quoted
text folded; Chinese bodies in GBK, GB18030 and without a charset; a malformed message, a huge
attachment and a huge message logged while the fetch goes on; the same message stored once."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from django.urls import reverse

from customers.tests.factories import ContactMethodFactory, CustomerFactory
from sessions_log.mail import email_compose, email_deliver
from sessions_log.mail_in import account_lock, mail_fetch_account, mail_fetch_mbox
from sessions_log.models import Attachment, Interaction, MailAccount, MailFetchRun, UnmatchedItem
from sessions_log.threads import reply_address, token_from_address

pytestmark = pytest.mark.django_db

REPLY_BASE = "crm@example.test"


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CRM_REPLY_ADDRESS = REPLY_BASE
    settings.DEFAULT_FROM_EMAIL = "CRM <crm@example.test>"


@pytest.fixture
def account(imap_mailbox, sales_user):
    return MailAccount.objects.create(
        name=f"Sales inbox {imap_mailbox.username}",
        host=imap_mailbox.host,
        port=imap_mailbox.port,
        use_ssl=False,
        username=imap_mailbox.username,
        password_env="CRM_TEST_IMAP_PASSWORD",
        owner=sales_user,
    )


@pytest.fixture
def customer(sales_user):
    customer = CustomerFactory(owner=sales_user, name="Li Wei 李伟")
    ContactMethodFactory(customer=customer, kind="email", value="Li.Wei@Example.com")
    return customer


def mail(
    *,
    sender: str = "li.wei@example.com",
    to: str = "sales@example.test",
    subject: str = "Hello",
    body: str = "Hello there.",
    message_id: str | None = "<m1@mail.example.com>",
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def sent_email(customer, staff, subject="Your quote"):
    """An email the CRM sent to the customer (logged with its Message-ID and thread code)."""
    contact = customer.contact_methods.get(kind="email")
    return email_compose(customer=customer, staff=staff, contact=contact, subject=subject, body="The quote.")


def fetch(account) -> MailFetchRun:
    account.refresh_from_db()
    run = mail_fetch_account(account=account)
    assert run is not None
    return run


def test_a_reply_threads_by_in_reply_to_even_from_an_unknown_address(
    account, imap_mailbox, customer, sales_user
):
    root = sent_email(customer, sales_user)
    imap_mailbox.append(
        mail(sender="colleague@other.example", subject="Re: Your quote", in_reply_to=root.message_id)
    )

    run = fetch(account)

    reply = Interaction.objects.get(direction="inbound")
    assert (run.read, run.matched, run.unmatched, run.failed) == (1, 1, 0, 0)
    assert reply.thread == root and reply.customer == customer
    assert reply.thread_token == root.thread_token and reply.in_reply_to == root.message_id
    assert reply.channel == "email" and reply.counterpart == "colleague@other.example"
    assert reply.staff == sales_user and reply.mail_account == account


def test_a_reply_threads_by_references_only(account, imap_mailbox, customer, sales_user):
    root = sent_email(customer, sales_user)
    imap_mailbox.append(
        mail(
            sender="someone@elsewhere.example",
            subject="Re: Your quote",
            references=f"<older@elsewhere.example> {root.message_id}",
        )
    )

    fetch(account)

    assert Interaction.objects.get(direction="inbound").thread == root


def test_a_reply_with_rewritten_headers_threads_by_the_signed_reply_to_address(
    account, imap_mailbox, customer, sales_user, smtp_server, settings
):
    root = sent_email(customer, sales_user, subject="Delivery date")
    email_deliver(interaction_id=root.pk)  # on MongoDB the commit already sent it (no test transaction)
    root.refresh_from_db()
    assert root.delivery_status == "sent"
    [sent] = smtp_server.messages
    reply_to = sent.message["Reply-To"]
    assert reply_to == reply_address(root.thread_token) and token_from_address(reply_to) == root.thread_token
    # The provider gave the reply a Message-ID of its own, dropped In-Reply-To and References and the
    # customer edited the subject: only the address it was sent to is left.
    imap_mailbox.append(mail(to=reply_to, subject="Delivery", message_id="<rewritten-1@provider.example>"))

    fetch(account)

    reply = Interaction.objects.get(direction="inbound")
    assert reply.thread == root and reply.message_id == "<rewritten-1@provider.example>"


def test_a_forged_signature_on_the_reply_address_does_not_thread(account, imap_mailbox, customer, sales_user):
    root = sent_email(customer, sales_user)
    forged = f"crm+{root.thread_token}.aaaaaaaaaaaaaaaaaaaaaa@example.test"
    imap_mailbox.append(mail(sender="stranger@evil.example", to=forged, subject="Hi"))

    run = fetch(account)

    assert run.unmatched == 1 and not Interaction.objects.filter(direction="inbound").exists()


def test_a_reply_threads_by_the_subject_code_alone(account, imap_mailbox, customer, sales_user):
    root = sent_email(customer, sales_user)
    imap_mailbox.append(mail(subject=f"Re: Your quote [crm-{root.thread_token.upper()}]", message_id=None))

    fetch(account)

    reply = Interaction.objects.get(direction="inbound")
    assert reply.thread == root
    assert reply.subject == "Re: Your quote"  # the code is not repeated on the timeline


def test_quoted_history_and_signature_are_folded_away_and_shown_on_request(
    account, imap_mailbox, customer, sales_user, client
):
    root = sent_email(customer, sales_user)
    text = (
        "Thanks, the price is fine.\nPlease send the contract.\n\nBest regards,\nLi Wei\n\n"
        "On Mon, 5 Jan 2026 at 10:00, Anna <anna@example.test> wrote:\n"
        "> Hello Li Wei,\n> the quote is attached.\n"
    )
    imap_mailbox.append(mail(body=text, in_reply_to=root.message_id))

    fetch(account)

    reply = Interaction.objects.get(direction="inbound")
    assert reply.body == "Thanks, the price is fine.\nPlease send the contract."
    assert "Best regards" in reply.quoted_text and "> the quote is attached." in reply.quoted_text
    client.force_login(sales_user)
    page = client.get(root.get_absolute_url()).content.decode()
    thread = page[page.index('id="thread"') :]
    assert "Show quoted text" in thread and "<details" in thread
    # The thread in order: the CRM's mail, then the reply.
    assert thread.index("The quote.") < thread.index("Thanks, the price is fine.")


@pytest.mark.parametrize(
    ("charset_header", "encoded"),
    [
        ("text/plain; charset=gbk", "价格可以，请发合同。".encode("gbk")),
        ("text/plain; charset=gb18030", "价格可以，请发合同。𠀀".encode("gb18030")),
        ("text/plain", "价格可以，请发合同。".encode("gb18030")),  # no charset at all
        ("text/plain; charset=utf-8", "价格可以，请发合同。".encode("gbk")),  # the wrong one
    ],
    ids=["gbk", "gb18030", "no charset", "wrong charset"],
)
def test_chinese_bodies_are_read_whatever_their_charset_says(
    account, imap_mailbox, customer, charset_header, encoded
):
    subject = "=?gb2312?B?" + base64.b64encode("报价".encode("gbk")).decode() + "?="
    raw = (
        (
            f"From: =?GBK?B?{base64.b64encode('李伟'.encode('gbk')).decode()}?= <li.wei@example.com>\r\n"
            f"To: sales@example.test\r\nSubject: {subject}\r\nMessage-ID: <cn-1@example.com>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {charset_header}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode()
        + encoded
        + b"\r\n"
    )
    imap_mailbox.append(raw)

    run = fetch(account)

    interaction = Interaction.objects.get(direction="inbound")
    assert run.failed == 0 and interaction.customer == customer
    assert interaction.subject == "报价"
    assert interaction.body.startswith("价格可以，请发合同。")


def test_a_malformed_message_is_logged_with_its_reason_and_the_next_one_is_still_stored(
    account, imap_mailbox, customer
):
    broken_mime = (
        b"From: li.wei@example.com\r\nSubject: Broken\r\nMessage-ID: <broken@example.com>\r\n"
        b"Content-Type: multipart/mixed; boundary=NEVER\r\n\r\nthe boundary never comes\r\n"
    )
    imap_mailbox.append(
        b"\x00\xff\xfe this is not a mail", broken_mime, mail(message_id="<fine@example.com>")
    )

    run = fetch(account)

    assert (run.read, run.failed, run.matched) == (3, 1, 2)
    reasons = [problem["reason"] for problem in run.problems]
    assert any("no From header" in reason for reason in reasons)
    assert any("malformed MIME" in reason and "StartBoundaryNotFoundDefect" in reason for reason in reasons)
    assert Interaction.objects.filter(message_id="<fine@example.com>").exists()
    assert "the boundary never comes" in Interaction.objects.get(message_id="<broken@example.com>").body


def test_the_same_message_fetched_twice_is_stored_once(account, imap_mailbox, customer):
    imap_mailbox.append(mail(message_id="<same@example.com>"), mail(message_id="<same@example.com>"))
    imap_mailbox.append(mail(message_id=None, subject="No id"), mail(message_id=None, subject="No id"))

    first = fetch(account)
    # Read the whole folder again (as after a UIDVALIDITY change): nothing new is stored.
    MailAccount.objects.filter(pk=account.pk).update(last_uid=0)
    second = fetch(account)

    assert (first.read, first.matched, first.duplicates) == (4, 2, 2)
    assert (second.read, second.matched, second.duplicates) == (4, 0, 4)
    assert Interaction.objects.filter(message_id="<same@example.com>").count() == 1
    assert Interaction.objects.filter(subject="No id").count() == 1
    account.refresh_from_db()
    assert account.last_uid == 4 and account.last_error == ""
    assert fetch(account).read == 0  # nothing above last_uid


def test_a_changed_uidvalidity_reads_the_folder_again_and_says_so(account, imap_mailbox, customer):
    imap_mailbox.append(mail(message_id="<v1@example.com>"))
    fetch(account)
    MailAccount.objects.filter(pk=account.pk).update(uid_validity=12345)

    run = fetch(account)

    assert (run.read, run.duplicates) == (1, 1)
    assert any("UIDVALIDITY changed" in problem["reason"] for problem in run.problems)


def test_a_huge_attachment_is_refused_and_logged_and_the_mail_is_kept(
    account, imap_mailbox, customer, settings
):
    settings.CRM_ATTACHMENT_MAX_BYTES = 50_000
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "li.wei@example.com", "s@example.test", "Files"
    message["Message-ID"] = "<files@example.com>"
    message.set_content("Two files.")
    message.add_attachment(b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="quote.pdf")
    message.add_attachment(
        b"%PDF-1.4" + b"x" * 200_000, maintype="application", subtype="pdf", filename="big.pdf"
    )
    message.add_attachment(b"MZ\x90\x00", maintype="application", subtype="x-msdownload", filename="run.exe")
    imap_mailbox.append(message.as_bytes())

    run = fetch(account)

    interaction = Interaction.objects.get(message_id="<files@example.com>")
    assert [a.name for a in Attachment.objects.filter(interaction=interaction)] == ["quote.pdf"]
    reasons = " | ".join(problem["reason"] for problem in run.problems)
    assert "big.pdf" in reasons and "at most" in reasons
    assert "run.exe" in reasons and "cannot be attached" in reasons


def test_a_message_bigger_than_the_limit_is_not_downloaded_and_the_next_one_is_read(
    account, imap_mailbox, customer, settings
):
    settings.CRM_MAIL_MAX_MESSAGE_BYTES = 20_000
    imap_mailbox.append(
        mail(body="x" * 40_000, message_id="<huge@example.com>"), mail(message_id="<ok@example.com>")
    )

    run = fetch(account)

    assert (run.read, run.failed, run.matched) == (2, 1, 1)
    assert any("not read" in problem["reason"] for problem in run.problems)
    assert not Interaction.objects.filter(message_id="<huge@example.com>").exists()


def test_an_unknown_sender_lands_in_the_owners_inbox(account, imap_mailbox, sales_user):
    imap_mailbox.append(mail(sender="Wang Fang 王芳 <wang.fang@new.example>", subject="A question"))

    run = fetch(account)

    item = UnmatchedItem.objects.get()
    assert run.unmatched == 1
    assert (item.counterpart, item.counterpart_name, item.subject) == (
        "wang.fang@new.example",
        "Wang Fang 王芳",
        "A question",
    )
    assert item.received_by == sales_user and item.status == "open"


def test_a_wrong_password_or_a_missing_variable_is_stored_on_the_account_and_the_run(
    account, imap_mailbox, monkeypatch
):
    monkeypatch.setenv("CRM_TEST_IMAP_PASSWORD", "wrong")
    run = fetch(account)
    account.refresh_from_db()
    assert run.error and account.last_error == run.error and "Login" in run.error

    monkeypatch.delenv("CRM_TEST_IMAP_PASSWORD")
    run = fetch(account)
    assert "CRM_TEST_IMAP_PASSWORD is not set" in run.error


def test_a_mailbox_being_read_by_another_run_is_skipped(account, imap_mailbox, customer):
    imap_mailbox.append(mail())
    assert account_lock(account=account, token="another-run")

    assert mail_fetch_account(account=account) is None
    assert not Interaction.objects.filter(direction="inbound").exists()


def test_the_command_reads_the_mailboxes_an_eml_file_and_an_mbox(
    account, imap_mailbox, customer, tmp_path, capsys
):
    imap_mailbox.append(mail(message_id="<cmd-imap@example.com>"))
    eml = tmp_path / "one.eml"
    eml.write_bytes(mail(message_id="<cmd-eml@example.com>"))
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(
        b"From li.wei@example.com Mon Jan  5 10:00:00 2026\n"
        + mail(message_id="<cmd-mbox-1@example.com>").replace(b"\r\n", b"\n")
        + b"\nFrom x@y Mon Jan  5 10:00:00 2026\n"
        + mail(sender="nobody@unknown.example", message_id="<cmd-mbox-2@example.com>").replace(b"\r\n", b"\n")
    )

    call_command("fetch_mail", "--account", account.name)
    call_command("fetch_mail", "--file", str(eml))
    call_command("fetch_mail", "--mbox", str(mbox))

    out = capsys.readouterr().out
    assert "1 read, 1 on customers" in out and "2 read, 1 on customers, 1 to the inbox" in out
    stored = set(Interaction.objects.values_list("message_id", flat=True))
    assert {"<cmd-imap@example.com>", "<cmd-eml@example.com>", "<cmd-mbox-1@example.com>"} <= stored
    assert UnmatchedItem.objects.get().message_id == "<cmd-mbox-2@example.com>"
    assert mail_fetch_mbox(path=mbox).duplicates == 2


def test_the_beat_task_reads_every_active_mailbox(account, imap_mailbox, customer):
    from sessions_log.tasks import mail_fetch_all_task

    imap_mailbox.append(mail())
    MailAccount.objects.create(name="Off", host="127.0.0.1", port=1, use_ssl=False, username="x",
                               password_env="NONE", is_active=False)  # fmt: skip

    [summary] = mail_fetch_all_task.apply().get()

    assert summary["read"] == 1 and summary["matched"] == 1 and summary["error"] == ""


@pytest.mark.django_db(transaction=True)
def test_staff_reply_from_the_crm_threads_and_carries_the_headers(client, customer, sales_user, smtp_server):
    inbound = Interaction.objects.create(
        customer=customer, channel="email", direction="inbound", subject="Question",
        message_id="<q1@example.com>", references="<older@example.com>", thread_token="mnpqrstuvw",
    )  # fmt: skip
    client.force_login(sales_user)
    url = reverse("sessions_log:email-compose", args=[customer.pk]) + f"?reply={inbound.pk}"
    page = client.get(url).content.decode()
    assert 'value="Re: Question"' in page

    client.post(
        url, {"to": str(customer.contact_methods.get().pk), "subject": "Re: Question", "body": "Yes."}
    )

    answer = Interaction.objects.get(direction="outbound")
    assert answer.thread == inbound and answer.thread_token == "mnpqrstuvw"
    [sent] = smtp_server.messages
    assert sent.message["In-Reply-To"] == "<q1@example.com>"
    assert sent.message["References"] == "<older@example.com> <q1@example.com>"
    assert sent.message["Subject"] == "Re: Question [CRM-mnpqrstuvw]"
    assert sent.message["Reply-To"] == reply_address("mnpqrstuvw")
    other = CustomerFactory(owner=sales_user)
    assert (
        client.get(
            reverse("sessions_log:email-compose", args=[other.pk]) + f"?reply={inbound.pk}"
        ).status_code
        == 404
    )
    assert client.get(url.replace(str(inbound.pk), "not-an-id")).status_code == 404
