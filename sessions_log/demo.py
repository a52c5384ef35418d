"""Demo interactions and follow-ups: a few contacts per customer over the last two years, bulk-written.

Two kinds of contact, both generated per chunk of customers as numpy arrays and written with bulk_create
(no per-row random calls), so memory and time stay bounded at 1,000,000 customers:

- **Background contacts**, unrelated to anything the customer does: about ``INTERACTIONS_PER_CUSTOMER``
  each (Poisson), uniform over the last ``DAYS`` days, by the customer's owner, on a channel mix that looks
  like a consumer business (calls and chats first), ``INBOUND_SHARE`` of them started by the customer, the
  outcome drawn from ``OUTCOME_SHARES`` (complaints 5%).
- **Complaints after orders**, the one relationship to behaviour built in (it runs after the orders
  seeder, ``SEED_AFTER``): an inbound complaint call or chat ``COMPLAINT_DELAY_DAYS`` after an order,
  with probability ``COMPLAINT_AFTER_LAST_ORDER`` after the customer's last order and
  ``COMPLAINT_AFTER_OTHER_ORDER`` after any earlier one. The story is "a complaint, then they never came
  back"; it is drawn from the seeded order history, so a churn model that finds it finds what was put
  here, not evidence about real customers.

An open follow-up for about one customer in ``FOLLOW_UP_ONE_IN``, some overdue.

A few email threads (``EMAIL_THREADS``: the CRM's mail, the customer's reply with its quoted history
folded away, the answer) and a few mails and calls from unknown senders waiting in the sales users'
unmatched inboxes (``UNMATCHED``), so the thread view and the inbox have something to show.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.utils import timezone

from crm_site.bulk import build_instances, field_defaults
from crm_site.demo import SeedContext
from sessions_log.mail_parse import fold_quoted
from sessions_log.models import CannedReply, FollowUp, Interaction, UnmatchedItem
from sessions_log.threads import thread_token_new

# The complaints follow the seeded orders: this seeder runs right after the orders one.
SEED_AFTER = "orders"
INTERACTIONS_PER_CUSTOMER = 4
FOLLOW_UP_ONE_IN = 8
CHUNK = 5_000
DAYS = 730
CHANNELS = ("call", "chat", "email", "wechat", "visit", "sms", "note", "meeting")
CHANNEL_SHARES = (0.30, 0.22, 0.14, 0.14, 0.08, 0.05, 0.05, 0.02)
INBOUND_SHARE = 0.4
TIMED_CHANNELS = ("call", "visit", "meeting")
OUTCOMES = ("reached", "no_answer", "interested", "not_interested", "complaint", "resolved", "")
OUTCOME_SHARES = (0.35, 0.15, 0.15, 0.1, 0.05, 0.1, 0.1)
COMPLAINT_AFTER_LAST_ORDER = 0.25
COMPLAINT_AFTER_OTHER_ORDER = 0.04
COMPLAINT_DELAY_DAYS = (1.0, 21.0)
COMPLAINT_CHANNELS = ("call", "chat")
COMPLAINT_SUBJECTS = (
    "投诉 Complaint: late delivery",
    "投诉 Complaint: damaged item",
    "投诉 Complaint: refund",
)
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


EMAIL_THREADS = 20
UNMATCHED = 12
THREAD_MAILS = (
    ("outbound", "您的报价 Your quote", "您好，附上报价，请查收。\nHello, here is your quote.", ""),
    (
        "inbound",
        "Re: 您的报价 Your quote",
        "价格可以，请发合同。\nThe price is fine, please send the contract.",
        "祝好，\n\n> 您好，附上报价，请查收。\n> Hello, here is your quote.",
    ),
    (
        "outbound",
        "Re: 您的报价 Your quote",
        "合同已发送，请签字后寄回。\nThe contract is attached: sign and return.",
        "",
    ),
)
UNMATCHED_MAILS = (
    (
        "email",
        "zhou.min@mail.example",
        "周敏 Zhou Min",
        "咨询 Question about delivery",
        "请问多久能到货？\nHow soon can you deliver?",
    ),
    (
        "email",
        "buyer@shop.example",
        "",
        "Wholesale prices",
        "Do you sell in bulk?\n\nOn Mon, Jan 5, Sales wrote:\n> Thanks",
    ),
    ("call", "13912345678", "", "", ""),
)

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


def _moments(now: datetime, days_ago: np.ndarray) -> list[datetime]:
    stamps = pd.Timestamp(now).tz_convert("UTC") - pd.to_timedelta(days_ago, unit="D")
    return list(pd.DatetimeIndex(stamps).to_pydatetime())


def _background(
    rng: np.random.Generator, customers: list[Any], owners: list[Any], now: datetime
) -> dict[str, list[Any]]:
    """The background contacts of one chunk of customers as equal-length columns."""
    counts = rng.poisson(INTERACTIONS_PER_CUSTOMER, size=len(customers))
    who = np.repeat(np.arange(len(customers)), counts)
    total = len(who)
    channel = np.array(CHANNELS)[rng.choice(len(CHANNELS), size=total, p=CHANNEL_SHARES)]
    note = channel == "note"
    direction = np.where(note, "internal", np.where(rng.random(total) < INBOUND_SHARE, "inbound", "outbound"))
    outcome = np.where(note, "", np.array(OUTCOMES)[rng.choice(len(OUTCOMES), size=total, p=OUTCOME_SHARES)])
    pick = rng.integers(0, 1 << 30, size=total)
    durations = rng.integers(30, 1800, size=total).tolist()
    timed = np.isin(channel, TIMED_CHANNELS).tolist()
    return {
        "customer_id": [customers[i] for i in who.tolist()],
        "staff_id": [owners[i] for i in who.tolist()],
        "channel": channel.tolist(),
        "direction": direction.tolist(),
        "outcome": outcome.tolist(),
        "subject": [
            SUBJECTS[c][k % len(SUBJECTS[c])] for c, k in zip(channel.tolist(), pick.tolist(), strict=True)
        ],
        "occurred_at": _moments(now, rng.uniform(0, DAYS, size=total)),
        "duration_seconds": [d if t else None for d, t in zip(durations, timed, strict=True)],
    }


def _purchases(customers: list[Any], *, everyone: bool) -> tuple[np.ndarray, np.ndarray]:
    """(customer position in ``customers``, ordered_at as datetime64[ns]) of every purchased order."""
    try:
        from orders.selectors import purchased_orders
    except ImportError:
        return np.array([], dtype=np.int64), np.array([], dtype="datetime64[ns]")
    position = {str(pk): i for i, pk in enumerate(customers)}
    where: list[int] = []
    when: list[Any] = []
    for chunk in purchased_orders(customer_ids=None if everyone else customers, chunk_size=50_000):
        for _pk, customer_id, ordered_at, *_rest in chunk:
            index = position.get(str(customer_id))
            if index is not None:
                where.append(index)
                when.append(ordered_at)
    stamps = pd.to_datetime(pd.Series(when, dtype=object), utc=True).dt.tz_localize(None).to_numpy()
    return np.array(where, dtype=np.int64), stamps


def _complaints(
    rng: np.random.Generator, customers: list[Any], owners: list[Any], now: datetime, *, everyone: bool
) -> dict[str, list[Any]]:
    """Complaints after orders (see the module docstring) of one chunk of customers."""
    who, ordered_at = _purchases(customers, everyone=everyone)
    if not len(who):
        return {}
    latest = np.full(len(customers), np.datetime64("NaT"), dtype="datetime64[ns]")
    order = np.lexsort((ordered_at, who))
    last_of_each = order[np.r_[who[order][1:] != who[order][:-1], True]]
    latest[who[last_of_each]] = ordered_at[last_of_each]
    chance = np.where(ordered_at == latest[who], COMPLAINT_AFTER_LAST_ORDER, COMPLAINT_AFTER_OTHER_ORDER)
    delay = rng.uniform(*COMPLAINT_DELAY_DAYS, size=len(who))
    now64 = np.datetime64(pd.Timestamp(now).tz_convert("UTC").tz_localize(None).as_unit("ns"))
    days_ago = (now64 - ordered_at) / np.timedelta64(1, "D") - delay
    keep = (rng.random(len(who)) < chance) & (days_ago > 0)
    who, days_ago = who[keep], days_ago[keep]
    total = len(who)
    return {
        "customer_id": [customers[i] for i in who.tolist()],
        "staff_id": [owners[i] for i in who.tolist()],
        "channel": np.array(COMPLAINT_CHANNELS)[
            rng.integers(0, len(COMPLAINT_CHANNELS), size=total)
        ].tolist(),
        "direction": ["inbound"] * total,
        "outcome": ["complaint"] * total,
        "subject": np.array(COMPLAINT_SUBJECTS)[
            rng.integers(0, len(COMPLAINT_SUBJECTS), size=total)
        ].tolist(),
        "occurred_at": _moments(now, days_ago),
        "duration_seconds": [None] * total,
    }


def _instances(model: type, columns: dict[str, list[Any]]) -> list[Any]:
    names = list(columns)
    rows = (
        {**dict(zip(names, values, strict=True)), "id": uuid.uuid4()}
        for values in zip(*columns.values(), strict=True)
    )
    return build_instances(model, field_defaults(model), rows)


def _follow_ups(rng: np.random.Generator, rows: list[Interaction], now: datetime) -> list[FollowUp]:
    """An open follow-up on the last generated contact of about one customer in FOLLOW_UP_ONE_IN."""
    last: dict[Any, Interaction] = {}
    for row in rows:
        last[row.customer_id] = row
    chosen = [row for row in last.values() if rng.integers(FOLLOW_UP_ONE_IN) == 0]
    due = rng.uniform(-5, 14, size=len(chosen))
    return [
        FollowUp(
            id=uuid.uuid4(),
            customer_id=row.customer_id,
            interaction_id=row.pk,
            title="回电 Call back",
            due_at=now + timedelta(days=float(days)),
            assignee_id=row.staff_id,
            created_by_id=row.staff_id,
        )
        for row, days in zip(chosen, due.tolist(), strict=True)
    ]


def seed(ctx: SeedContext) -> None:
    seed_canned_replies()
    customer_ids: list[Any] = ctx.shared.get("customer_ids", [])
    owner_ids: list[Any] = ctx.shared.get("customer_owner_ids", [])
    if not customer_ids:
        return
    rng = ctx.numpy_rng
    now = timezone.now()
    made = complaints = follow_ups = 0
    for start in range(0, len(customer_ids), CHUNK):
        ids = customer_ids[start : start + CHUNK]
        owners = owner_ids[start : start + CHUNK] if owner_ids else [None] * len(ids)
        rows = _instances(Interaction, _background(rng, ids, owners, now))
        plans = _follow_ups(rng, rows, now)
        after_orders = _complaints(rng, ids, owners, now, everyone=len(ids) == len(customer_ids))
        extra = _instances(Interaction, after_orders) if after_orders else []
        Interaction.objects.bulk_create(rows + extra, batch_size=ctx.batch_size)
        FollowUp.objects.bulk_create(plans, batch_size=ctx.batch_size)
        made += len(rows) + len(extra)
        complaints += len(extra)
        follow_ups += len(plans)
    ctx.log(
        f"  interactions: {made:,} (complaints after orders: {complaints:,}), open follow-ups: {follow_ups:,}"
    )
    threads, waiting = seed_mail(ctx, customer_ids, owner_ids, now)
    ctx.log(f"  email threads: {threads:,}, unmatched inbox items: {waiting:,}")


def seed_mail(
    ctx: SeedContext, customer_ids: list[Any], owner_ids: list[Any], now: datetime
) -> tuple[int, int]:
    """Email threads for a few customers and unknown senders' mail in the sales users' inboxes (bulk)."""
    rng = ctx.numpy_rng
    picks = rng.choice(len(customer_ids), size=min(EMAIL_THREADS, len(customer_ids)), replace=False).tolist()
    mails: list[Interaction] = []
    for number, index in enumerate(picks):
        root_id, token = uuid.uuid4(), thread_token_new()
        start = now - timedelta(days=float(rng.uniform(2, 60)))
        parent = ""
        for step, (direction, subject, body, quoted) in enumerate(THREAD_MAILS):
            message_id = f"<demo-{number}-{step}-{token}@crm.example>"
            mails.append(
                Interaction(
                    id=root_id if step == 0 else uuid.uuid4(),
                    customer_id=customer_ids[index],
                    staff_id=owner_ids[index] if owner_ids else None,
                    channel="email",
                    direction=direction,
                    subject=subject,
                    body=body,
                    quoted_text=quoted,
                    occurred_at=start + timedelta(hours=5 * step),
                    message_id=message_id,
                    in_reply_to=parent,
                    references=parent,
                    thread_token=token,
                    thread_id=None if step == 0 else root_id,
                    counterpart=f"customer{number}@example.cn" if direction == "inbound" else "",
                    delivery_status="sent" if direction == "outbound" else "",
                )  # fmt: skip
            )
            parent = message_id
    Interaction.objects.bulk_create(mails, batch_size=ctx.batch_size)
    receivers = [user.pk for user in ctx.sales_users()] or [None]
    waiting = [
        UnmatchedItem(
            id=uuid.uuid4(),
            channel=channel,
            counterpart=counterpart,
            counterpart_name=name,
            subject=subject,
            body=fold_quoted(body)[0],
            quoted_text=fold_quoted(body)[1],
            occurred_at=now - timedelta(hours=3 * number + 1),
            received_by_id=receivers[number % len(receivers)],
            message_id=f"<demo-unmatched-{number}-{uuid.uuid4().hex[:8]}@mail.example>"
            if channel == "email"
            else "",
            duration_seconds=95 if channel == "call" else None,
        )
        for number, (channel, counterpart, name, subject, body) in (
            (n, UNMATCHED_MAILS[n % len(UNMATCHED_MAILS)]) for n in range(UNMATCHED)
        )
    ]
    UnmatchedItem.objects.bulk_create(waiting, batch_size=ctx.batch_size)
    return len(picks), len(waiting)
