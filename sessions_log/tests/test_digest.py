"""The morning follow-up digest, sent through Django's SMTP backend to a real SMTP server on 127.0.0.1
(aiosmtpd, ``conftest.smtp_server``) and read as it arrives; once a day however often or concurrently the
task runs; a refused recipient does not stop the others and gets it on the next run; the beat entry; a
real worker. And the managers' Team tab of My follow-ups."""

from __future__ import annotations

import json
import threading
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from sessions_log.digest import digest_claim, follow_up_digest_send
from sessions_log.models import DigestSent, FollowUp
from sessions_log.schedule import DIGEST_SCHEDULE_NAME, DIGEST_TASK_NAME, ensure_sessions_log_schedules

SITE = "https://crm.example.test"


@pytest.fixture
def morning(settings):
    """07:30 today in the server time zone, the beat entry's hour (what the runs take as "now")."""
    settings.CRM_SITE_URL = SITE
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(7, 30)))


def _staff(user, first, email):
    user.first_name, user.last_name, user.email = first, "Staff", email
    user.save()
    return user


def _due(customer, user, title, due, **fields):
    return FollowUp.objects.create(customer=customer, title=title, due_at=due, assignee=user, **fields)


def _text(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message):
    return message.get_body(preferencelist=("html",)).get_content()


def _to(mailbox, address):
    return [received for received in mailbox.messages if received.rcpt_tos == [address]]


def test_the_digest_arrives_with_overdue_then_today_and_nothing_else(
    sales_user, other_sales_user, smtp_server, morning
):
    anna = _staff(sales_user, "Anna", "anna@example.test")
    _staff(other_sales_user, "Bo", "bo@example.test")
    customer = CustomerFactory(owner=anna, name="Li Wei 李伟")
    _due(customer, anna, "Send the quote", morning - timedelta(days=2))
    _due(customer, anna, "Call back", morning + timedelta(hours=3))
    _due(customer, anna, "Visit tomorrow", morning + timedelta(days=1))
    _due(customer, anna, "Done already", morning - timedelta(days=1), status=FollowUp.Status.DONE)
    _due(customer, anna, "Called off", morning - timedelta(days=1), status=FollowUp.Status.CANCELLED)
    # Anna's follow-up on a customer she no longer sees (Bo's, not shared with her): left out.
    bos_customer = CustomerFactory(owner=other_sales_user, name="Zhang Min")
    _due(bos_customer, anna, "Lost customer", morning - timedelta(hours=1))
    _due(bos_customer, other_sales_user, "Bo's own", morning - timedelta(hours=1))

    counts = follow_up_digest_send(now=morning)

    assert (counts.sent, counts.failed, counts.already_sent) == (2, 0, 0)
    [received] = _to(smtp_server, "anna@example.test")
    message = received.message
    assert received.mail_from == "crm@example.test"
    assert message["To"] == "anna@example.test"
    assert message["Subject"].startswith("Your follow-ups for ")
    assert message["Subject"].endswith(": 1 overdue, 1 due today")
    text = _text(message)
    assert text.startswith("Good morning Anna Staff,")
    assert text.index("Overdue (1)") < text.index("Send the quote") < text.index("Due today (1)")
    assert text.index("Due today (1)") < text.index("Call back")
    assert "Li Wei 李伟" in text
    for absent in ("Visit tomorrow", "Done already", "Called off", "Lost customer", "Zhang Min", "Bo's own"):
        assert absent not in text
    # The due time in the server time zone, today's as a time only (English: "10:30 a.m.").
    assert "- 10:30 a.m. · Li Wei 李伟 · Call back" in text
    assert f"{SITE}/interactions/follow-ups/" in text
    html = _html(message)
    assert f'href="{SITE}/interactions/follow-ups/"' in html
    assert f'href="{SITE}{customer.get_absolute_url()}"' in html
    assert "Send the quote" in html and "Visit tomorrow" not in html
    [bos] = _to(smtp_server, "bo@example.test")
    assert "Bo's own" in _text(bos.message) and "Send the quote" not in _text(bos.message)
    assert DigestSent.objects.get(user=anna, day=timezone.localdate(morning)).items == 2


def test_running_the_task_twice_sends_one_mail(sales_user, smtp_server, morning):
    anna = _staff(sales_user, "Anna", "anna@example.test")
    _due(CustomerFactory(owner=anna), anna, "Ring", morning - timedelta(hours=2))

    first = follow_up_digest_send(now=morning)
    second = follow_up_digest_send(now=morning + timedelta(minutes=5))

    assert (first.sent, second.sent, second.already_sent) == (1, 0, 1)
    assert len(smtp_server.messages) == 1
    # The next morning is another day: a new digest.
    assert follow_up_digest_send(now=morning + timedelta(days=1)).sent == 1
    assert len(smtp_server.messages) == 2


def test_a_second_claim_for_the_same_user_and_day_is_refused(sales_user, morning):
    day = timezone.localdate(morning)
    assert digest_claim(user=sales_user, day=day, items=3) is not None
    assert digest_claim(user=sales_user, day=day, items=3) is None
    assert DigestSent.objects.filter(user=sales_user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_one_mail(sales_user, smtp_server, morning):
    anna = _staff(sales_user, "Anna", "anna@example.test")
    _due(CustomerFactory(owner=anna), anna, "Ring", morning - timedelta(hours=2))
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait(timeout=10)
            results.append(follow_up_digest_send(now=morning))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(result.sent for result in results) == [0, 1]
    assert sum(result.already_sent for result in results) == 1
    assert len(_to(smtp_server, "anna@example.test")) == 1
    assert DigestSent.objects.filter(user=anna).count() == 1


def test_a_refused_recipient_does_not_stop_the_others_and_is_retried_next_run(
    sales_user, other_sales_user, smtp_server, morning
):
    # "refused@..." is refused at RCPT by the test server, as a real one refuses an unknown mailbox.
    bad = _staff(sales_user, "Anna", "refused@example.test")
    good = _staff(other_sales_user, "Bo", "bo@example.test")
    _due(CustomerFactory(owner=bad), bad, "Anna's call", morning - timedelta(hours=2))
    _due(CustomerFactory(owner=good), good, "Bo's call", morning - timedelta(hours=2))

    first = follow_up_digest_send(now=morning)

    assert (first.sent, first.failed, first.failed_users) == (1, 1, ["sales_a"])
    assert [received.rcpt_tos for received in smtp_server.messages] == [["bo@example.test"]]
    assert not DigestSent.objects.filter(user=bad).exists()  # the claim was released

    bad.email = "anna@example.test"  # the address is corrected; the next run sends hers, not Bo's again
    bad.save()
    second = follow_up_digest_send(now=morning + timedelta(minutes=10))

    assert (second.sent, second.already_sent, second.failed) == (1, 1, 0)
    assert [received.rcpt_tos for received in smtp_server.messages] == [
        ["bo@example.test"],
        ["anna@example.test"],
    ]
    assert "Anna's call" in _text(smtp_server.messages[1].message)


def test_a_mail_server_that_is_down_fails_every_digest_and_the_next_run_sends_them(
    sales_user, smtp_server, morning, settings
):
    from sessions_log.tests.conftest import _free_port

    anna = _staff(sales_user, "Anna", "anna@example.test")
    _due(CustomerFactory(owner=anna), anna, "Ring", morning - timedelta(hours=2))
    working_port, settings.EMAIL_PORT = settings.EMAIL_PORT, _free_port()

    assert follow_up_digest_send(now=morning).failed == 1
    settings.EMAIL_PORT = working_port
    assert follow_up_digest_send(now=morning).sent == 1
    assert len(smtp_server.messages) == 1


def test_nothing_due_no_mail_and_no_address_no_mail(sales_user, other_sales_user, smtp_server, morning):
    anna = _staff(sales_user, "Anna", "anna@example.test")
    _due(CustomerFactory(owner=anna), anna, "Next week", morning + timedelta(days=7))
    _due(CustomerFactory(owner=other_sales_user), other_sales_user, "Bo's", morning - timedelta(hours=1))

    counts = follow_up_digest_send(now=morning)

    assert (counts.sent, counts.nothing_due) == (0, 1)  # Bo has no address: not even considered
    assert smtp_server.messages == []
    assert not DigestSent.objects.exists()


def test_the_digest_is_in_the_site_language_with_its_date_format(sales_user, smtp_server, morning, settings):
    """Users store no language preference: the digest follows LANGUAGE_CODE, dates formatted for it."""
    settings.LANGUAGE_CODE = "zh-hans"
    anna = _staff(sales_user, "Anna", "anna@example.test")
    _due(CustomerFactory(owner=anna), anna, "Ring", morning - timedelta(days=1))

    follow_up_digest_send(now=morning)

    [received] = smtp_server.messages
    day = timezone.localdate(morning)
    assert f"{day.year}年{day.month}月{day.day}日" in received.message["Subject"]
    assert '<html lang="zh-hans">' in _html(received.message)


def test_a_manager_digest_lists_the_teams_overdue_items_with_who_has_them(
    sales_user, manager_user, smtp_server, morning
):
    anna = _staff(sales_user, "Anna", "anna@example.test")
    boss = _staff(manager_user, "Boss", "boss@example.test")
    customer = CustomerFactory(owner=anna, name="Li Wei")
    _due(customer, anna, "Anna is late", morning - timedelta(days=1))
    _due(customer, anna, "Anna's today", morning + timedelta(hours=2))
    _due(customer, boss, "Boss's own", morning + timedelta(hours=1))

    follow_up_digest_send(now=morning)

    [received] = _to(smtp_server, "boss@example.test")
    text = _text(received.message)
    assert received.message["Subject"].endswith(": 0 overdue, 1 due today")
    assert text.index("Due today (1)") < text.index("Boss's own") < text.index("Your team's overdue")
    assert "Li Wei · Anna is late · Anna Staff" in text
    assert "Anna's today" not in text  # only the team's overdue ones
    assert f"{SITE}/interactions/follow-ups/team/" in text


def test_the_beat_entry_runs_the_digest_task_and_a_managers_edit_stays(client, manager_user, settings):
    from django_celery_beat.models import PeriodicTask

    from crm_site.celery import app
    from sessions_log import tasks

    ensure_sessions_log_schedules()  # as migrate does (MongoDB's flush after a transactional test empties it)
    entry = PeriodicTask.objects.get(name=DIGEST_SCHEDULE_NAME)
    assert entry.enabled and entry.task == DIGEST_TASK_NAME == "sessions_log.follow_up_digest"
    assert tasks.follow_up_digest_send_task.name == DIGEST_TASK_NAME and DIGEST_TASK_NAME in app.tasks
    assert (entry.crontab.hour, entry.crontab.minute, str(entry.crontab.timezone)) == (
        "7",
        "30",
        settings.TIME_ZONE,
    )
    client.force_login(manager_user)
    listing = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    assert listing.status_code == 200 and DIGEST_SCHEDULE_NAME in listing.content.decode()

    entry.crontab.hour = "8"
    entry.crontab.save()
    ensure_sessions_log_schedules()  # a later migrate leaves the manager's time alone
    assert PeriodicTask.objects.get(name=DIGEST_SCHEDULE_NAME).crontab.hour == "8"


def test_the_sent_digests_are_listed_read_only_in_the_admin(client, manager_user, sales_user, morning):
    DigestSent.objects.create(user=sales_user, day=timezone.localdate(morning), items=4)
    client.force_login(manager_user)
    listing = client.get(reverse("admin:sessions_log_digestsent_changelist"))
    assert listing.status_code == 200
    assert "sales_a" in listing.content.decode()
    assert client.get(reverse("admin:sessions_log_digestsent_add")).status_code == 403


@pytest.mark.worker
def test_a_real_worker_sends_the_digest_the_beat_entry_names(transactional_db, sales_user, smtp_server):
    from celery.result import AsyncResult
    from django_celery_beat.models import PeriodicTask

    from crm_site.celery import app
    from crm_site.testing import celery_worker_process

    ensure_sessions_log_schedules()
    entry = PeriodicTask.objects.get(name=DIGEST_SCHEDULE_NAME)
    anna = _staff(sales_user, "Anna", "anna@example.test")
    _due(CustomerFactory(owner=anna), anna, "Ring from the worker", timezone.now() - timedelta(days=1))
    mail = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": smtp_server.port,
        "DEFAULT_FROM_EMAIL": "CRM <crm@example.test>",
    }
    with celery_worker_process(worker_settings=mail) as worker:
        result: AsyncResult = app.send_task(
            entry.task, args=json.loads(entry.args), kwargs=json.loads(entry.kwargs)
        )
        outcome = result.get(timeout=60)
        assert f"Task {entry.task}[{result.id}] received" in worker["log_path"].read_text(errors="replace")
        again = app.send_task(entry.task).get(timeout=60)
    assert (outcome["sent"], again["sent"], again["already_sent"]) == (1, 0, 1)
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["anna@example.test"]
    assert "Ring from the worker" in _text(received.message)


# --- the Team tab of My follow-ups


def _team_world(sales_user, other_sales_user, manager_user):
    now = timezone.now()
    anna = _staff(sales_user, "Anna", "anna@example.test")
    bo = _staff(other_sales_user, "Bo", "bo@example.test")
    _due(CustomerFactory(owner=anna), anna, "Anna late", now - timedelta(days=1))
    _due(CustomerFactory(owner=anna), anna, "Anna next week", now + timedelta(days=7))
    _due(CustomerFactory(owner=bo), bo, "Bo late", now - timedelta(days=1))
    _due(CustomerFactory(owner=bo), bo, "Bo done", now - timedelta(days=1), status=FollowUp.Status.DONE)
    _due(CustomerFactory(owner=manager_user), manager_user, "Boss's own", now - timedelta(hours=1))
    return anna, bo


def _sections(response):
    return {str(title): [f.title for f in items] for title, items in response.context["agenda_sections"]}


def test_a_manager_in_no_team_sees_every_others_open_follow_ups_with_the_assignee(
    client, sales_user, other_sales_user, manager_user
):
    _team_world(sales_user, other_sales_user, manager_user)
    client.force_login(manager_user)

    mine = client.get(reverse("sessions_log:follow-up-list"), HTTP_ACCEPT_LANGUAGE="en")
    team = client.get(reverse("sessions_log:follow-up-team"), HTTP_ACCEPT_LANGUAGE="en")

    assert _sections(mine)["Overdue"] == ["Boss's own"]
    assert reverse("sessions_log:follow-up-team") in mine.content.decode()
    sections = _sections(team)
    assert sorted(sections["Overdue"]) == ["Anna late", "Bo late"]
    assert sections["Upcoming"] == ["Anna next week"]
    page = team.content.decode()
    assert "Anna Staff" in page and "Bo Staff" in page
    assert "Bo done" not in page and "Boss&#x27;s own" not in page and "Boss's own" not in page
    assert 'aria-current="page" href="/interactions/follow-ups/team/"' in page


def test_a_manager_of_a_team_sees_only_that_teams_follow_ups(
    client, sales_user, other_sales_user, manager_user
):
    anna, _bo = _team_world(sales_user, other_sales_user, manager_user)
    east = Group.objects.create(name="East")
    east.user_set.add(anna, manager_user)
    client.force_login(manager_user)

    team = client.get(reverse("sessions_log:follow-up-team"), HTTP_ACCEPT_LANGUAGE="en")

    assert _sections(team)["Overdue"] == ["Anna late"]
    assert "Bo late" not in team.content.decode()


def test_an_action_from_the_team_tab_comes_back_to_it(client, sales_user, other_sales_user, manager_user):
    _team_world(sales_user, other_sales_user, manager_user)
    late = FollowUp.objects.get(title="Bo late")
    client.force_login(manager_user)
    team_url = reverse("sessions_log:follow-up-team")
    assert f'name="next" value="{team_url}"' in client.get(team_url).content.decode()

    response = client.post(
        reverse("sessions_log:follow-up-snooze", args=[late.pk]), {"hours": "24", "next": team_url}
    )

    assert response.status_code == 302 and response["Location"] == team_url


def test_a_sales_user_has_no_team_tab_and_a_crafted_url_shows_only_their_own(
    client, sales_user, other_sales_user, manager_user
):
    anna, _bo = _team_world(sales_user, other_sales_user, manager_user)
    Group.objects.create(name="East").user_set.add(anna, other_sales_user)
    client.force_login(anna)

    mine = client.get(reverse("sessions_log:follow-up-list"), {"who": "team"}, HTTP_ACCEPT_LANGUAGE="en")

    assert reverse("sessions_log:follow-up-team") not in mine.content.decode()
    assert _sections(mine)["Overdue"] == ["Anna late"]
    assert "Bo late" not in mine.content.decode()
    assert client.get(reverse("sessions_log:follow-up-team")).status_code == 403
