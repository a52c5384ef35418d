"""The mail fetch benchmark's steps inside Django: fill the mailbox, then read the run's numbers.

``fill N host port user password``: N messages APPENDed over IMAP — 60% from customers' addresses, 10%
replies to a mail the CRM sent (In-Reply-To), 30% from unknown senders; each with a quoted history and a
signature to fold, one in 20 with a small PDF, one in 10 in GB18030. ``mailbox host port user`` creates
the MailAccount. ``runs`` prints the fetch runs as JSON.
"""

from __future__ import annotations

import json
import sys
import uuid
from email.message import EmailMessage

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from customers.models import ContactMethod  # noqa: E402  (bench code: reads the seeded addresses)
from sessions_log.models import Interaction, MailAccount, MailFetchRun  # noqa: E402
from sessions_log.tests.dovecot import ImapLogin  # noqa: E402

QUOTE = "\n".join(f"> line {n} of the earlier message, quoted by the mail client" for n in range(30))


def _message(number: int, sender: str, *, in_reply_to: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "sales@bench.example"
    message["Subject"] = f"Order question {number}"
    message["Message-ID"] = f"<bench-{number}-{uuid.uuid4().hex[:12]}@mail.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    text = (
        f"Hello, about order {number}: can it ship this week?\n价格可以，请尽快发货。\n\n"
        "Best regards,\nA customer\n\n"
        f"On Mon, 5 Jan 2026 at 10:00, Sales <sales@bench.example> wrote:\n{QUOTE}\n"
    )
    charset = "gb18030" if number % 10 == 3 else "utf-8"
    message.set_content(text, charset=charset)
    if number % 20 == 7:
        message.add_attachment(b"%PDF-1.4\n" + b"0" * 20_000, maintype="application", subtype="pdf",
                               filename=f"order-{number}.pdf")  # fmt: skip
    return message.as_bytes()


def fill(count: int, host: str, port: int, user: str, password: str) -> None:
    addresses = list(ContactMethod.objects.filter(kind="email").values_list("value", "customer_id")[:5000])
    staff = get_user_model().objects.filter(username="sales1").first()
    roots = []
    for _value, customer_id in addresses[:50]:
        roots.append(
            Interaction.objects.create(
                customer_id=customer_id,
                channel="email",
                direction="outbound",
                subject="Your quote",
                staff=staff,
                message_id=f"<root-{uuid.uuid4().hex}@crm.bench>",
                thread_token=uuid.uuid4().hex[:10],
            ).message_id  # fmt: skip
        )
    messages = []
    for number in range(count):
        slot = number % 10
        if slot < 6 and addresses:
            messages.append(_message(number, addresses[number % len(addresses)][0]))
        elif slot == 6 and roots:
            messages.append(
                _message(number, f"someone{number}@elsewhere.example", in_reply_to=roots[number % len(roots)])
            )
        else:
            messages.append(_message(number, f"unknown{number}@new.example"))
    ImapLogin(host, port, user, password).append(*messages)
    print(json.dumps({"messages": count, "bytes": sum(len(m) for m in messages)}))


def mailbox(host: str, port: int, user: str) -> None:
    MailAccount.objects.update_or_create(
        name="bench", defaults={"host": host, "port": port, "use_ssl": False, "username": user,
                                "password_env": "CRM_BENCH_IMAP_PASSWORD", "last_uid": 0, "uid_validity": 0,
                                "owner": get_user_model().objects.filter(username="sales1").first()},
    )  # fmt: skip


def runs() -> None:
    rows = MailFetchRun.objects.filter(account__name="bench").order_by("started_at")
    print(json.dumps([
        {"read": r.read, "matched": r.matched, "unmatched": r.unmatched, "duplicates": r.duplicates,
         "failed": r.failed, "problems": len(r.problems), "error": r.error,
         "seconds": ((r.finished_at or r.started_at) - r.started_at).total_seconds()}
        for r in rows
    ]))  # fmt: skip


if __name__ == "__main__":
    step, rest = sys.argv[1], sys.argv[2:]
    if step == "fill":
        fill(int(rest[0]), rest[1], int(rest[2]), rest[3], rest[4])
    elif step == "mailbox":
        mailbox(rest[0], int(rest[1]), rest[2])
    else:
        runs()
