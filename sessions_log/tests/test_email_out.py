"""Email out: composed in the CRM, delivered through Django's SMTP backend to a real SMTP server on
127.0.0.1 (aiosmtpd, ``conftest.smtp_server``), logged as an outbound email interaction with its
Message-ID; do-not-contact, bad input, canned replies in both languages, another user's customer."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from customers.tests.factories import ContactMethodFactory, CustomerFactory
from sessions_log.mail import canned_reply_render, email_compose, email_deliver, render_text
from sessions_log.models import CannedReply, DeliveryStatus, Interaction
from sessions_log.tasks import email_send
from sessions_log.tests.conftest import _free_port


def _compose_url(customer):
    return reverse("sessions_log:email-compose", args=[customer.pk])


def _customer_with_email(owner, address="li.wei@example.com", **contact):
    customer = CustomerFactory(owner=owner, name="Li Wei 李伟")
    email = ContactMethodFactory(customer=customer, kind="email", value=address, **contact)
    return customer, email


def _staff(user):
    user.first_name, user.last_name, user.email = "Anna", "Sales", "anna@example.test"
    user.save()
    return user


@pytest.mark.django_db(transaction=True)
def test_an_email_arrives_at_the_smtp_server_and_is_logged_with_its_message_id(
    client, sales_user, smtp_server
):
    customer, email = _customer_with_email(sales_user)
    client.force_login(_staff(sales_user))

    response = client.post(
        _compose_url(customer),
        {"to": str(email.pk), "subject": "Your quote 报价", "body": "Hello Li Wei,\nthe quote is attached."},
        follow=True,
    )

    interaction = Interaction.objects.get(customer=customer)
    assert response.redirect_chain[-1][0] == interaction.get_absolute_url()
    assert "Email sent to li.wei@example.com." in response.content.decode()
    assert (interaction.channel, interaction.direction) == ("email", "outbound")
    assert interaction.delivery_status == DeliveryStatus.SENT
    assert interaction.staff == sales_user and interaction.email_to == "li.wei@example.com"
    assert interaction.message_id.startswith("<") and interaction.message_id.endswith("@example.test>")
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["li.wei@example.com"]
    assert received.mail_from == "crm@example.test"
    message = received.message
    assert message["Message-ID"] == interaction.message_id
    assert message["To"] == "li.wei@example.com"
    # The thread's code rides in the subject, so an answer threads even without its headers.
    assert message["Subject"] == f"Your quote 报价 [CRM-{interaction.thread_token}]"
    assert message["Reply-To"] == "anna@example.test"
    assert message.get_content().replace("\r\n", "\n") == "Hello Li Wei,\nthe quote is attached.\n"


@pytest.mark.django_db(transaction=True)
def test_a_refused_recipient_marks_the_email_failed_with_the_reason_and_the_user_sees_it(
    client, sales_user, smtp_server
):
    customer, email = _customer_with_email(sales_user, address="refused@example.com")
    client.force_login(sales_user)

    response = client.post(
        _compose_url(customer), {"to": str(email.pk), "subject": "Hi", "body": "Text"}, follow=True
    )

    assert response.status_code == 200
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.delivery_status == DeliveryStatus.FAILED
    assert "550" in interaction.delivery_error and "User unknown" in interaction.delivery_error
    page = response.content.decode()
    assert "The mail server did not take the email to refused@example.com" in page
    assert "User unknown" in page  # the interaction page shows the reason too
    assert smtp_server.messages == []


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_fails_the_email_not_the_page(client, sales_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 5
    customer, email = _customer_with_email(sales_user)
    client.force_login(sales_user)

    response = client.post(
        _compose_url(customer), {"to": str(email.pk), "subject": "Hi", "body": "Text"}, follow=True
    )

    assert response.status_code == 200
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.delivery_status == DeliveryStatus.FAILED
    assert "ConnectionRefusedError" in interaction.delivery_error


def test_sending_twice_delivers_once(sales_user, smtp_server, django_capture_on_commit_callbacks):
    customer, email = _customer_with_email(sales_user)
    with django_capture_on_commit_callbacks(execute=True):
        interaction = email_compose(customer=customer, staff=sales_user, contact=email, subject="S", body="B")
    interaction.refresh_from_db()
    assert interaction.delivery_status == DeliveryStatus.SENT

    # A redelivered task (acks_late) or a second call finds the email claimed and sends nothing.
    assert email_send.delay(str(interaction.pk)).get() == "skipped"
    assert email_deliver(interaction_id=interaction.pk) == "skipped"
    assert len(smtp_server.messages) == 1


def test_an_address_marked_do_not_contact_is_refused_nothing_sent_nothing_logged(
    client, sales_user, smtp_server, django_capture_on_commit_callbacks
):
    customer, email = _customer_with_email(sales_user, do_not_contact=True)
    client.force_login(sales_user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(_compose_url(customer), {"to": str(email.pk), "subject": "Hi", "body": "Text"})

    assert response.status_code == 200
    assert "is marked do not contact" in response.context["form"].errors["to"][0]
    assert callbacks == []
    assert not Interaction.objects.filter(customer=customer).exists()
    assert smtp_server.messages == []
    # The address is listed as such, and not chosen by default.
    page = client.get(_compose_url(customer)).content.decode()
    assert "li.wei@example.com (do not contact)" in page


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("subject", {"subject": "", "body": "Text"}),
        ("body", {"subject": "Hi", "body": "  "}),
        ("subject", {"subject": "Hi\r\nBcc: everyone@example.com", "body": "Text"}),
        ("to", {"subject": "Hi", "body": "Text", "to": "forged"}),
    ],
)
def test_bad_input_is_a_form_error_naming_the_field(client, sales_user, smtp_server, field, data):
    customer, email = _customer_with_email(sales_user)
    client.force_login(sales_user)
    if data.get("to") == "forged":
        # An address of another customer of the same user, forged into the POST.
        _other, other_email = _customer_with_email(sales_user, address="other@example.com")
        data = {**data, "to": str(other_email.pk)}

    response = client.post(_compose_url(customer), {"to": str(email.pk), **data})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not Interaction.objects.exists()
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    ("language", "subject", "body", "expected_subject", "expected_body"),
    [
        (
            "en",
            "Your order, {customer_name}",
            "Dear {customer_name},\n{unknown_thing} {customer_name.__class__} {customer_name:>999999}\n"
            "{staff_name} <{staff_email}>",
            "Your order, Li Wei 李伟",
            "Dear Li Wei 李伟,\n{unknown_thing} {customer_name.__class__} {customer_name:>999999}\n"
            "Anna Sales <anna@example.test>",
        ),
        (
            "zh-hans",
            "{customer_name}，您的订单",
            "{customer_name}您好：\n{未知}\n此致\n{staff_name}",
            "Li Wei 李伟，您的订单",
            "Li Wei 李伟您好：\n{未知}\n此致\nAnna Sales",
        ),
    ],
)
def test_a_canned_reply_fills_the_form_with_placeholders_rendered_in_both_languages(
    client, sales_user, language, subject, body, expected_subject, expected_body
):
    customer, _email = _customer_with_email(sales_user)
    reply = CannedReply.objects.create(name="Order", language=language, subject=subject, body=body)
    client.force_login(_staff(sales_user))

    with translation.override(language):
        response = client.get(
            _compose_url(customer), {"canned": str(reply.pk)}, HTTP_ACCEPT_LANGUAGE=language
        )

    form = response.context["form"]
    assert form.initial["subject"] == expected_subject
    assert form.initial["body"] == expected_body
    unknown = list(response.context["unknown_placeholders"])
    if language == "en":
        assert unknown == ["{unknown_thing}", "{customer_name.__class__}", "{customer_name:>999999}"]
    else:
        assert unknown == ["{未知}"]
    assert "These placeholders are not known" in response.content.decode() or language != "en"


def test_a_placeholder_value_is_never_rendered_again(sales_user):
    customer = CustomerFactory(owner=sales_user, name="{staff_name}")
    reply = CannedReply(name="x", subject="{customer_name}", body="Hi {customer_name}")
    rendered = canned_reply_render(reply=reply, customer=customer, staff=sales_user)
    assert (rendered.subject, rendered.body, rendered.unknown) == ("{staff_name}", "Hi {staff_name}", ())
    assert render_text("{{customer_name}}", {"customer_name": "X"}) == ("{X}", [])


def test_another_sales_user_cannot_open_or_post_the_compose_page(
    client, sales_user, other_sales_user, smtp_server
):
    customer, email = _customer_with_email(sales_user)
    client.force_login(other_sales_user)

    assert client.get(_compose_url(customer)).status_code == 404
    response = client.post(_compose_url(customer), {"to": str(email.pk), "subject": "Hi", "body": "B"})

    assert response.status_code == 404
    assert not Interaction.objects.exists()
    assert smtp_server.messages == []


def test_the_customer_panel_links_to_the_compose_page_and_the_contact_form_has_the_flag(client, sales_user):
    customer, _email = _customer_with_email(sales_user)
    client.force_login(sales_user)

    page = client.get(customer.get_absolute_url()).content.decode()
    assert _compose_url(customer) in page
    form_page = client.get(reverse("customers:customer-update", args=[customer.pk])).content.decode()
    assert "do_not_contact" in form_page


def test_the_contact_form_saves_do_not_contact_and_the_compose_page_then_refuses_the_address(
    client, sales_user, smtp_server
):
    from customers.models import Customer
    from customers.tests.test_views import _formset_management

    client.force_login(sales_user)
    data = {
        "kind": "person", "name": "No Mail Please", "gender": "unknown", "lifecycle_stage": "lead",
        "source": "web",
        **_formset_management("contacts", 1), "contacts-0-kind": "email",
        "contacts-0-value": "no.mail@example.com", "contacts-0-do_not_contact": "on",
        **_formset_management("addresses", 0),
    }  # fmt: skip
    response = client.post(reverse("customers:customer-create"), data)
    assert response.status_code == 302
    customer = Customer.objects.get(name="No Mail Please")
    email = customer.contact_methods.get()
    assert email.do_not_contact is True

    response = client.post(_compose_url(customer), {"to": str(email.pk), "subject": "Hi", "body": "Text"})
    assert "to" in response.context["form"].errors
    assert not Interaction.objects.exists() and smtp_server.messages == []


def test_a_message_django_will_not_build_fails_the_email_not_the_task(sales_user, smtp_server):
    customer, _email = _customer_with_email(sales_user)
    interaction = Interaction.objects.create(
        customer=customer, channel="email", staff=sales_user, subject="Hi\nBcc: x@example.com", body="B",
        email_to="li.wei@example.com", message_id="<x@example.test>", delivery_status=DeliveryStatus.QUEUED,
    )  # fmt: skip

    assert email_deliver(interaction_id=interaction.pk) == "failed"

    interaction.refresh_from_db()
    assert interaction.delivery_status == DeliveryStatus.FAILED
    assert "BadHeaderError" in interaction.delivery_error
    assert smtp_server.messages == []
