"""The unmatched inbox: mail from an unknown sender (read from the real Dovecot) waits in its receiver's
inbox; another sales user can neither see nor attach it (404); the receiver attaches it to a customer,
files and all, and remembers the address so the next mail matches by itself; Service works every item
but changes no customer it may not change; dismiss; two people at once; keyset pages; roles."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import ContactMethodFactory, CustomerFactory
from sessions_log.inbox import unmatched_attach
from sessions_log.models import Attachment, Interaction, MailAccount, UnmatchedItem
from sessions_log.tests.test_email_in import fetch, mail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def inbox_account(imap_mailbox, sales_user):
    return MailAccount.objects.create(
        name="A's inbox", host=imap_mailbox.host, port=imap_mailbox.port, use_ssl=False,
        username=imap_mailbox.username, password_env="CRM_TEST_IMAP_PASSWORD", owner=sales_user,
    )  # fmt: skip


def unknown_mail(message_id: str = "<new-1@new.example>") -> bytes:
    message = EmailMessage()
    message["From"] = "Wang Fang 王芳 <Wang.Fang@New.example>"
    message["To"] = "sales@example.test"
    message["Subject"] = "Price of the blue model"
    message["Message-ID"] = message_id
    message.set_content("How much is it?\n\n> an older quote\n")
    message.add_attachment(b"%PDF-1.4 spec", maintype="application", subtype="pdf", filename="spec.pdf")
    return message.as_bytes()


def item_url(name: str, item: UnmatchedItem) -> str:
    return reverse(f"sessions_log:{name}", args=[item.pk])


def test_unknown_mail_waits_in_the_owners_inbox_another_sales_user_cannot_touch_it_the_owner_attaches_it(
    client, inbox_account, imap_mailbox, sales_user, other_sales_user
):
    customer = CustomerFactory(owner=sales_user, name="Wang Fang 王芳")
    imap_mailbox.append(unknown_mail())
    assert fetch(inbox_account).unmatched == 1
    item = UnmatchedItem.objects.get()
    assert Attachment.objects.get(unmatched=item).name == "spec.pdf"

    client.force_login(other_sales_user)
    assert (
        "Price of the blue model" not in client.get(reverse("sessions_log:unmatched-list")).content.decode()
    )
    assert client.get(item_url("unmatched-detail", item)).status_code == 404
    refused = client.post(item_url("unmatched-attach", item), {"customer": str(customer.pk)})
    assert refused.status_code == 404
    assert client.post(item_url("unmatched-dismiss", item)).status_code == 404
    item.refresh_from_db()
    assert item.status == "open"

    client.force_login(sales_user)
    listing = client.get(reverse("sessions_log:unmatched-list")).content.decode()
    assert "Price of the blue model" in listing and "wang.fang@new.example" in listing
    detail = client.get(item_url("unmatched-detail", item)).content.decode()
    assert "How much is it?" in detail and "Show quoted text" in detail and "spec.pdf" in detail
    response = client.post(
        item_url("unmatched-attach", item),
        {"customer": customer.name, "customer_id": str(customer.pk), "remember": "on"},
    )

    interaction = Interaction.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == interaction.get_absolute_url()
    assert (interaction.channel, interaction.direction, interaction.staff) == ("email", "inbound", sales_user)
    assert interaction.message_id == "<new-1@new.example>" and interaction.thread_token
    assert interaction.body == "How much is it?" and "an older quote" in interaction.quoted_text
    assert Attachment.objects.get(interaction=interaction).name == "spec.pdf"
    item.refresh_from_db()
    assert (item.status, item.interaction, item.handled_by) == ("attached", interaction, sales_user)
    assert "wang.fang@new.example" in {c.value_normalized for c in customer.contact_methods.all()}
    assert (
        "Price of the blue model" not in client.get(reverse("sessions_log:unmatched-list")).content.decode()
    )

    # Remembered: the next mail from that address goes straight to the customer.
    imap_mailbox.append(mail(sender="wang.fang@new.example", message_id="<new-2@new.example>"))
    assert fetch(inbox_account).matched == 1
    assert Interaction.objects.filter(customer=customer, message_id="<new-2@new.example>").exists()


def test_another_sales_users_customer_cannot_be_chosen(client, sales_user, other_sales_user):
    theirs = CustomerFactory(owner=other_sales_user, name="Bee Customer", external_id="EXT-BEE-1")
    item = UnmatchedItem.objects.create(
        channel="email", counterpart="x@y.example", subject="Hi", received_by=sales_user
    )
    client.force_login(sales_user)

    response = client.post(
        item_url("unmatched-attach", item), {"customer": "EXT-BEE-1", "customer_id": str(theirs.pk)}
    )

    assert response.status_code == 200
    assert "No customer you can see matches" in response.content.decode()
    assert not Interaction.objects.exists()
    item.refresh_from_db()
    assert item.status == "open"


def test_service_works_every_item_but_cannot_change_a_customer_it_only_reads(
    client, make_user, sales_user, other_sales_user
):
    agent = make_user("agent", "Service")
    customer = CustomerFactory(owner=sales_user, name="Zhao Lei")
    item = UnmatchedItem.objects.create(
        channel="email", counterpart="zhao@z.example", subject="Broken", received_by=other_sales_user
    )
    client.force_login(agent)
    assert "Broken" in client.get(reverse("sessions_log:unmatched-list")).content.decode()

    refused = client.post(
        item_url("unmatched-attach", item), {"customer": str(customer.pk), "remember": "on"}
    )
    assert "You may not change this customer" in refused.content.decode()
    assert not Interaction.objects.exists()

    done = client.post(item_url("unmatched-attach", item), {"customer": str(customer.pk)})
    assert done.status_code == 302
    assert Interaction.objects.get().customer == customer
    assert "zhao@z.example" not in {c.value_normalized for c in customer.contact_methods.all()}


def test_a_reply_attached_from_the_inbox_joins_the_customers_thread(sales_user):
    customer = CustomerFactory(owner=sales_user)
    ContactMethodFactory(customer=customer, kind="email", value="c@c.example")
    root = Interaction.objects.create(
        customer=customer, channel="email", direction="outbound", subject="Offer", message_id="<root@crm>",
        thread_token="abcdefghjk",
    )  # fmt: skip
    item = UnmatchedItem.objects.create(
        channel="email", counterpart="assistant@c.example", references="<root@crm>", received_by=sales_user
    )

    interaction = unmatched_attach(item=item, customer=customer, user=sales_user)

    assert interaction.thread == root and interaction.thread_token == "abcdefghjk"


def test_dismiss_and_a_second_hand_are_refused_cleanly(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    item = UnmatchedItem.objects.create(channel="call", counterpart="13800138000", received_by=sales_user)
    client.force_login(sales_user)

    assert client.post(item_url("unmatched-dismiss", item)).status_code == 302
    item.refresh_from_db()
    assert item.status == "dismissed" and item.handled_by == sales_user

    again = client.post(item_url("unmatched-attach", item), {"customer": str(customer.pk)}, follow=True)
    assert "Someone has already attached or dismissed this item." in again.content.decode()
    assert not Interaction.objects.exists()


def test_the_inbox_pages_by_keyset_newest_first(client, sales_user):
    now = timezone.now()
    for number in range(30):
        UnmatchedItem.objects.create(
            channel="email", counterpart=f"s{number}@x.example", subject=f"Item {number:02d}",
            occurred_at=now - timedelta(minutes=number), received_by=sales_user,
        )  # fmt: skip
    client.force_login(sales_user)

    first = client.get(reverse("sessions_log:unmatched-list"))
    page = first.context["page"]
    assert [row.subject for row in page.rows][:2] == ["Item 00", "Item 01"] and len(page.rows) == 25
    second = client.get(reverse("sessions_log:unmatched-list"), {"cursor": page.next_cursor}).context["page"]
    assert [row.subject for row in second.rows] == [f"Item {n}" for n in range(25, 30)]
    assert client.get(reverse("sessions_log:unmatched-list"), {"cursor": "garbage!"}).status_code == 200


@pytest.mark.parametrize(("role", "status"), [("Marketing", 403), ("KnowledgeEditor", 403), ("Manager", 200)])
def test_who_may_open_the_inbox(client, make_user, role, status):
    client.force_login(make_user(f"user_{role.lower()}", role))
    assert client.get(reverse("sessions_log:unmatched-list")).status_code == status


def test_managers_admin_lists_mailboxes_runs_and_the_inbox_and_tests_a_connection(
    client, manager_user, inbox_account
):
    from sessions_log.mail_in import mail_fetch_account

    manager_user.is_staff = True
    manager_user.save()
    mail_fetch_account(account=inbox_account)
    client.force_login(manager_user)
    for model in ("mailaccount", "mailfetchrun", "unmatcheditem"):
        assert client.get(reverse(f"admin:sessions_log_{model}_changelist")).status_code == 200
    checked = client.post(
        reverse("admin:sessions_log_mailaccount_changelist"),
        {"action": "check_connection", "_selected_action": [str(inbox_account.pk)]},
        follow=True,
    )
    assert "connected." in checked.content.decode()


def test_the_navigation_bar_links_the_inbox_for_the_roles_that_may_open_it(client, make_user, sales_user):
    inbox = reverse("sessions_log:unmatched-list")
    client.force_login(sales_user)
    page = client.get(inbox).content.decode()
    links = {
        href: bool(active)
        for active, href in re.findall(r'class="nav-link[^"]*?( active)?" href="([^"]+)"', page)
    }
    assert links[inbox] is True  # current
    assert links[reverse("sessions_log:index")] is False
    client.force_login(make_user("marketer", "Marketing"))
    assert f'href="{inbox}"' not in client.get(reverse("dashboard")).content.decode()
