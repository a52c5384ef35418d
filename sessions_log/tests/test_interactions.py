"""Logging interactions per channel from the customer page, follow-ups, and what another user reaches."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from sessions_log.models import FollowUp, Interaction
from sessions_log.services import FollowUpPlan, follow_up_done, follow_up_snooze, interaction_log

pytestmark = pytest.mark.django_db


def _log_url(customer, channel):
    return reverse("sessions_log:interaction-log", args=[customer.pk, channel])


@pytest.mark.parametrize(
    ("channel", "fields"),
    [
        (
            "call",
            {
                "direction": "outbound",
                "outcome": "reached",
                "duration_minutes": "7",
                "body": "Asked for a quote",
            },
        ),
        ("visit", {"place": "Shop 3, Nanjing Rd", "outcome": "interested", "subject": "Store visit"}),
        ("chat", {"direction": "inbound", "subject": "Where is my parcel"}),
        ("email", {"direction": "outbound", "subject": "Your quote"}),
        ("note", {"body": "Prefers WeChat after 18:00"}),
    ],
)
def test_each_channel_logs_from_the_customer_page(client, sales_user, channel, fields):
    customer = CustomerFactory(owner=sales_user)
    client.force_login(sales_user)
    data = {f"log-{channel}-{name}": value for name, value in fields.items()}
    response = client.post(_log_url(customer, channel), data)
    assert response.status_code == 302
    assert response["Location"].startswith(customer.get_absolute_url())
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.channel == channel and interaction.staff == sales_user
    if channel == "call":
        assert interaction.duration_seconds == 420 and interaction.outcome == "reached"
    if channel == "visit":
        assert interaction.place == "Shop 3, Nanjing Rd"
    if channel == "note":
        assert interaction.direction == "internal"


def test_a_call_schedules_its_follow_up_in_the_same_form(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    client.force_login(sales_user)
    due = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        _log_url(customer, "call"),
        {
            "log-call-direction": "outbound",
            "log-call-body": "Call back",
            "log-call-follow_up_title": "Send the quote",
            "log-call-follow_up_due": due,
        },
    )
    follow_up = FollowUp.objects.get(customer=customer)
    assert follow_up.title == "Send the quote" and follow_up.assignee == sales_user
    assert follow_up.interaction == Interaction.objects.get(customer=customer)


@pytest.mark.parametrize(
    ("data", "field_label"),
    [
        ({"log-call-direction": "outbound"}, "Notes"),  # nothing said
        (
            {"log-call-direction": "outbound", "log-call-body": "x", "log-call-follow_up_title": "Again"},
            "Next step due",
        ),
        ({"log-call-direction": "sideways", "log-call-body": "x"}, "Direction"),
        (
            {"log-call-direction": "outbound", "log-call-body": "x", "log-call-duration_minutes": "100000"},
            "Duration",
        ),
        (
            {
                "log-call-direction": "outbound",
                "log-call-body": "x",
                "log-call-occurred_at": "2099-01-01T10:00",
            },
            "When",
        ),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, sales_user, data, field_label):
    customer = CustomerFactory(owner=sales_user)
    client.force_login(sales_user)
    response = client.post(_log_url(customer, "call"), data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = " ".join(str(message) for message in response.context["messages"])
    assert field_label in text
    assert not Interaction.objects.exists() and not FollowUp.objects.exists()


def test_another_users_customer_cannot_be_logged_against(client, sales_user, other_sales_user):
    theirs = CustomerFactory(owner=other_sales_user)
    client.force_login(sales_user)
    response = client.post(_log_url(theirs, "call"), {"log-call-direction": "outbound", "log-call-body": "x"})
    assert response.status_code == 404
    assert not Interaction.objects.exists()


def test_an_unknown_channel_is_404(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    client.force_login(sales_user)
    assert client.post(_log_url(customer, "pigeon"), {}).status_code == 404


def test_links_must_belong_to_the_same_customer(sales_user):
    from django.core.exceptions import ValidationError

    from orders.tests.factories import SalesOrderFactory

    customer, other = CustomerFactory(owner=sales_user), CustomerFactory(owner=sales_user)
    with pytest.raises(ValidationError) as error:
        interaction_log(
            customer=customer,
            channel="call",
            staff=sales_user,
            body="x",
            sales_order=SalesOrderFactory(customer=other),
        )
    assert "sales_order" in error.value.message_dict


def test_done_chains_the_next_follow_up_and_snooze_moves_it(sales_user):
    customer = CustomerFactory(owner=sales_user)
    _i, first = interaction_log(
        customer=customer, channel="call", staff=sales_user, body="x",
        follow_up=FollowUpPlan(title="Call back", due_at=timezone.now() - timedelta(hours=1)),
    )  # fmt: skip
    following = follow_up_done(follow_up=first, by=sales_user, next_in_days=3)
    first.refresh_from_db()
    assert first.status == "done" and first.done_at is not None
    assert following.previous == first and following.title == "Call back"
    assert timedelta(days=2, hours=23) < following.due_at - timezone.now() <= timedelta(days=3)
    following.refresh_from_db()  # the stored time (MongoDB keeps milliseconds)
    before = following.due_at
    follow_up_snooze(follow_up=following, hours=24)
    following.refresh_from_db()
    assert following.due_at == before + timedelta(hours=24)


def test_my_follow_ups_split_overdue_today_upcoming_and_hide_others(client, sales_user, other_sales_user):
    customer = CustomerFactory(owner=sales_user)
    now = timezone.now()
    for title, due in (("Late one", now - timedelta(days=2)), ("Next week one", now + timedelta(days=7))):
        FollowUp.objects.create(customer=customer, title=title, due_at=due, assignee=sales_user)
    FollowUp.objects.create(
        customer=CustomerFactory(owner=other_sales_user),
        title="Theirs",
        due_at=now,
        assignee=other_sales_user,
    )
    client.force_login(sales_user)
    response = client.get(reverse("sessions_log:follow-up-list"), HTTP_ACCEPT_LANGUAGE="en")
    sections = dict(response.context["agenda_sections"])
    assert [f.title for f in sections["Overdue"]] == ["Late one"]
    assert [f.title for f in sections["Upcoming"]] == ["Next week one"]
    assert "Theirs" not in response.content.decode()


def test_done_from_the_list_page_with_a_next_one(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    follow_up = FollowUp.objects.create(
        customer=customer, title="Ring", due_at=timezone.now(), assignee=sales_user
    )
    client.force_login(sales_user)
    response = client.post(reverse("sessions_log:follow-up-done", args=[follow_up.pk]), {"next_in_days": "3"})
    assert response.status_code == 302
    assert FollowUp.objects.filter(previous=follow_up, status="open").count() == 1
    again = client.post(reverse("sessions_log:follow-up-done", args=[follow_up.pk]), {}, follow=True)
    assert "already" in " ".join(str(m) for m in again.context["messages"])


def test_the_customer_page_shows_the_quick_log_and_the_latest(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    interaction_log(customer=customer, channel="visit", staff=sales_user, subject="Showroom visit")
    client.force_login(sales_user)
    page = client.get(customer.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Showroom visit" in page
    assert _log_url(customer, "call") in page


def test_a_script_posting_for_json_gets_the_outcome_and_the_fresh_list(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    client.force_login(sales_user)
    url = _log_url(customer, "call")
    bad = client.post(url, {"log-call-direction": "outbound"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["ok"] is False and "body" in bad.json()["errors"]
    good = client.post(
        url,
        {"log-call-direction": "outbound", "log-call-subject": "Price check"},
        HTTP_ACCEPT="application/json",
    )
    answer = good.json()
    assert good.status_code == 200 and answer["ok"] is True
    assert "Price check" in answer["html"]
    assert Interaction.objects.filter(customer=customer).count() == 1


def test_rows_of_a_customer_no_longer_visible_are_neither_shown_nor_writable(
    client, sales_user, other_sales_user
):
    """Logged by sales_user, then the customer went to another owner: the rows go with the customer."""
    customer = CustomerFactory(owner=sales_user, name="Moved Away 搬走")
    interaction, follow_up = interaction_log(
        customer=customer, channel="call", staff=sales_user, subject="Before the move",
        follow_up=FollowUpPlan(title="Ring again", due_at=timezone.now()),
    )  # fmt: skip
    customer.owner = other_sales_user
    customer.save()
    client.force_login(sales_user)
    assert client.get(reverse("sessions_log:interaction-detail", args=[interaction.pk])).status_code == 404
    for page in ("sessions_log:index", "sessions_log:follow-up-list"):
        assert "Moved Away" not in client.get(reverse(page)).content.decode()
    done = client.post(reverse("sessions_log:follow-up-done", args=[follow_up.pk]), {"next_in_days": "5"})
    assert done.status_code == 404
    assert FollowUp.objects.filter(customer=customer).count() == 1


def test_reschedule_to_year_one_is_a_message_not_a_500(client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    follow_up = FollowUp.objects.create(
        customer=customer, title="Ring", due_at=timezone.now(), assignee=sales_user
    )
    client.force_login(sales_user)
    url = reverse("sessions_log:follow-up-reschedule", args=[follow_up.pk])
    response = client.post(url, {"due_at": "0001-01-01T00:00", "priority": "normal"}, follow=True)
    assert response.status_code == 200
    assert "between" in " ".join(str(m) for m in response.context["messages"])


def test_a_script_refused_gets_json_not_a_page(client, sales_user, other_sales_user, make_user):
    theirs = CustomerFactory(owner=other_sales_user)
    client.force_login(sales_user)
    missing = client.post(_log_url(theirs, "call"), {}, HTTP_ACCEPT="application/json")
    assert missing.status_code == 404 and missing.json()["ok"] is False
    marketer = make_user("mia", "Marketing")
    client.force_login(marketer)
    mine = CustomerFactory(owner=sales_user)
    refused = client.post(_log_url(mine, "call"), {}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 403 and refused.json()["ok"] is False


def test_quick_log_forms_render_once_per_language_as_crispy_would():
    """The customer page's empty quick-log forms are cached HTML: the same as crispy renders, per language."""
    from django.template import Context, Template
    from django.utils import translation

    from sessions_log.forms import QuickLogForm, quick_log_forms

    template = Template("{% load crispy_forms_tags %}{{ form|crispy }}")
    for language in ("en", "zh-hans"):
        with translation.override(language):
            entries = quick_log_forms()
            assert [entry.channel for entry in entries]
            for entry in entries:
                expected = template.render(Context({"form": QuickLogForm(channel=entry.channel)}))
                assert entry.html.strip() == expected.strip()
                assert f'name="log-{entry.channel}-' in entry.html
    with translation.override("zh-hans"):
        chinese = quick_log_forms()[0].html
    with translation.override("en"):
        assert quick_log_forms()[0].html != chinese
