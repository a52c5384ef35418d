"""Demo interactions and follow-ups: a few contacts per customer over the last two years, bulk-written.

About ``INTERACTIONS_PER_CUSTOMER`` interactions each on average (Poisson), by the customer's owner, on a
channel mix that looks like a consumer business (calls and chats first), and an open follow-up for about
one customer in ``FOLLOW_UP_ONE_IN``, some overdue. Generated per chunk of customers with numpy and written
with bulk_create, so memory stays bounded at 1,000,000 customers.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.utils import timezone

from crm_site.demo import SeedContext
from sessions_log.models import CannedReply, FollowUp, Interaction

INTERACTIONS_PER_CUSTOMER = 4
FOLLOW_UP_ONE_IN = 8
CHUNK = 5_000
DAYS = 730
CHANNELS = ("call", "chat", "email", "wechat", "visit", "sms", "note", "meeting")
CHANNEL_SHARES = (0.30, 0.22, 0.14, 0.14, 0.08, 0.05, 0.05, 0.02)
OUTCOMES = ("reached", "no_answer", "interested", "not_interested", "complaint", "resolved", "")
OUTCOME_SHARES = (0.35, 0.15, 0.15, 0.1, 0.05, 0.1, 0.1)
SUBJECTS = {
    "call": ("回访 Follow-up call", "报价 Quote", "售后 After-sales check"),
    "chat": ("物流查询 Where is my parcel", "尺码咨询 Size question", "优惠咨询 Coupon question"),
    "email": ("您的报价 Your quote", "订单确认 Order confirmation"),
    "wechat": ("新品推荐 New arrivals", "活动提醒 Event reminder"),
    "visit": ("门店到访 Store visit", "上门安装 Installation visit"),
    "sms": ("取件提醒 Pickup reminder",),
    "note": ("偏好 Preferences",),
    "meeting": ("年度回顾 Annual review",),
}


# Canned replies for email out, one set per language (placeholders: sessions_log.mail.PLACEHOLDERS).
CANNED_REPLIES = (
    ("Quote", "en", "Your quote", "Dear {customer_name},\n\nplease find your quote below.\n\n{staff_name}"),
    ("报价", "zh-hans", "您的报价", "{customer_name}您好：\n\n您的报价如下。\n\n此致\n{staff_name}"),
    (
        "Follow-up",
        "en",
        "Following up",
        "Dear {customer_name},\n\nhow are you getting on? Reply to this email or call me.\n\n{staff_name}",
    ),
    (
        "回访",
        "zh-hans",
        "回访",
        "{customer_name}您好：\n\n请问使用是否满意？欢迎回复本邮件。\n\n{staff_name}",
    ),
)


def seed_canned_replies() -> None:
    for name, language, subject, body in CANNED_REPLIES:
        CannedReply.objects.get_or_create(
            name=name, language=language, defaults={"subject": subject, "body": body}
        )


def seed(ctx: SeedContext) -> None:
    seed_canned_replies()
    customer_ids: list[Any] = ctx.shared.get("customer_ids", [])
    owner_ids: list[Any] = ctx.shared.get("customer_owner_ids", [])
    if not customer_ids:
        return
    rng = ctx.numpy_rng
    now = timezone.now()
    made = follow_ups = 0
    for start in range(0, len(customer_ids), CHUNK):
        ids = customer_ids[start : start + CHUNK]
        owners = owner_ids[start : start + CHUNK] if owner_ids else [None] * len(ids)
        counts = rng.poisson(INTERACTIONS_PER_CUSTOMER, size=len(ids))
        rows: list[Interaction] = []
        plans: list[FollowUp] = []
        for customer_id, owner_id, count in zip(ids, owners, counts, strict=True):
            channels = rng.choice(len(CHANNELS), size=int(count), p=CHANNEL_SHARES)
            ages = rng.uniform(0, DAYS, size=int(count))
            last = None
            for channel_index, age in zip(channels, ages, strict=True):
                channel = CHANNELS[int(channel_index)]
                subjects = SUBJECTS[channel]
                interaction = Interaction(
                    id=uuid.uuid4(),
                    customer_id=customer_id,
                    channel=channel,
                    direction="internal"
                    if channel == "note"
                    else ("inbound" if rng.random() < 0.4 else "outbound"),
                    subject=subjects[int(rng.integers(len(subjects)))],
                    occurred_at=now - timedelta(days=float(age)),
                    duration_seconds=int(rng.integers(30, 1800))
                    if channel in ("call", "visit", "meeting")
                    else None,
                    outcome=OUTCOMES[int(rng.choice(len(OUTCOMES), p=OUTCOME_SHARES))]
                    if channel != "note"
                    else "",
                    staff_id=owner_id,
                )
                rows.append(interaction)
                last = interaction
            if last is not None and rng.integers(FOLLOW_UP_ONE_IN) == 0:
                plans.append(
                    FollowUp(
                        id=uuid.uuid4(),
                        customer_id=customer_id,
                        interaction_id=last.pk,
                        title="回电 Call back",
                        due_at=now + timedelta(days=float(rng.uniform(-5, 14))),
                        assignee_id=owner_id,
                        created_by_id=owner_id,
                    )
                )
        Interaction.objects.bulk_create(rows, batch_size=ctx.batch_size)
        FollowUp.objects.bulk_create(plans, batch_size=ctx.batch_size)
        made += len(rows)
        follow_ups += len(plans)
    ctx.log(f"  interactions: {made:,}, open follow-ups: {follow_ups:,}")
