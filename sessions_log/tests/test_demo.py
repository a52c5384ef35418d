"""Demo interactions and follow-ups: written in bulk, by each customer's owner, visible to that owner."""

import pytest

from crm_site.demo import SeedContext
from customers import demo as customers_demo
from sessions_log import demo
from sessions_log.models import FollowUp, Interaction

pytestmark = pytest.mark.django_db


def test_demo_interactions_belong_to_the_owner_and_some_have_follow_ups(make_user):
    users = {"sales1": make_user("sales1", "Sales"), "sales2": make_user("sales2", "Sales")}
    ctx = SeedContext(customers=200, seed=7, users=users, batch_size=100, log=lambda _m: None)
    customers_demo.seed(ctx)
    demo.seed(ctx)
    count = Interaction.objects.count()
    assert 200 * demo.INTERACTIONS_PER_CUSTOMER * 0.8 < count < 200 * demo.INTERACTIONS_PER_CUSTOMER * 1.2
    assert set(Interaction.objects.values_list("channel", flat=True)) >= {"call", "chat", "email"}
    mismatched = [
        i for i in Interaction.objects.select_related("customer") if i.staff_id != i.customer.owner_id
    ]
    assert not mismatched
    assert FollowUp.objects.exists()
    sales1 = users["sales1"]
    assert (
        Interaction.objects.visible_to(sales1).count()
        == Interaction.objects.filter(customer__owner=sales1).count()
    )


def test_demo_canned_replies_are_bilingual_and_seeded_once():
    from sessions_log.models import CannedReply

    demo.seed_canned_replies()
    demo.seed_canned_replies()
    assert CannedReply.objects.count() == len(demo.CANNED_REPLIES)
    assert set(CannedReply.objects.values_list("language", flat=True)) == {"en", "zh-hans"}


def test_demo_email_threads_and_unmatched_items(make_user):
    from sessions_log.models import UnmatchedItem

    users = {"sales1": make_user("sales1", "Sales"), "sales2": make_user("sales2", "Sales")}
    ctx = SeedContext(customers=50, seed=3, users=users, batch_size=100, log=lambda _m: None)
    customers_demo.seed(ctx)
    demo.seed(ctx)
    replies = Interaction.objects.filter(thread__isnull=False)
    assert replies.count() == demo.EMAIL_THREADS * (len(demo.THREAD_MAILS) - 1)
    reply = replies.filter(direction="inbound").select_related("thread").first()
    assert reply.thread_token == reply.thread.thread_token and reply.quoted_text
    assert reply.customer_id == reply.thread.customer_id
    assert UnmatchedItem.objects.open().count() == demo.UNMATCHED
    assert set(UnmatchedItem.objects.values_list("received_by__username", flat=True)) == {"sales1", "sales2"}
