"""Mail fetch benchmark: messages per second read from a real IMAP server into the CRM by ``fetch_mail``.

Starts a throw-away Dovecot on 127.0.0.1 (``sessions_log/tests/dovecot.py``, Debian's dovecot-imapd),
seeds customers into its own PostgreSQL database (``seed_demo --only customers``: their email contact
methods are the known senders), APPENDs ``BENCH_MAIL_MESSAGES`` messages (default 2,000: 60% from
customers, 10% replies to a CRM mail, 30% unknown senders; quoted history and signature in each, some
GB18030, some with a PDF), then times ``manage.py fetch_mail --account bench`` three times: the first
read (everything new), a second (nothing new), and a re-read of the whole folder (last UID reset: every
message recognised as stored). Results replace the mail-fetch section of docs/benchmarks.md.

``make bench BENCH_ARGS='--only mail_fetch --customers 20000'``; environment: BENCH_MAIL_DATABASE_URL,
BENCH_MAIL_MESSAGES.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time

from bench._sections import section_write
from bench.search import ROOT, _create_database, _env, _machine

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench_mail"


def _django(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bench._mail_fetch_measure", *args],
        env=env, check=True, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def run(args) -> None:
    from sessions_log.tests.dovecot import dovecot_available, dovecot_start

    if not dovecot_available():
        print("mail_fetch: dovecot is not installed (apt-get install dovecot-imapd); skipped")
        return
    url = args.database_url or os.environ.get("BENCH_MAIL_DATABASE_URL", DEFAULT_URL)
    count = int(os.environ.get("BENCH_MAIL_MESSAGES", "2000"))
    customers = min(args.customers, 20_000)
    manage = [sys.executable, str(ROOT / "manage.py")]
    env = _env(url)
    _create_database(url)
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "seed_demo", "--customers", str(customers), "--only", "customers"],
                   env=env, check=True, cwd=ROOT, capture_output=True)  # fmt: skip
    server = dovecot_start()
    try:
        login = server.mailbox()
        env = {**env, "CRM_BENCH_IMAP_PASSWORD": login.password}
        filled = json.loads(_django(env, "fill", str(count), login.host, str(login.port), login.username,
                                    login.password))  # fmt: skip
        _django(env, "mailbox", login.host, str(login.port), login.username)
        walls = []
        for label in ("first read", "nothing new", "re-read (all stored)"):
            if label.startswith("re-read"):
                subprocess.run([*manage, "shell", "-c",
                                "from sessions_log.models import MailAccount; "
                                "MailAccount.objects.filter(name='bench').update(last_uid=0)"],
                               env=env, check=True, cwd=ROOT)  # fmt: skip
            started = time.perf_counter()
            subprocess.run([*manage, "fetch_mail", "--account", "bench"], env=env, check=True, cwd=ROOT,
                           capture_output=True)  # fmt: skip
            walls.append((label, time.perf_counter() - started))
        runs = json.loads(_django(env, "runs"))
    finally:
        server.stop()
    lines = [
        "| read | messages | on customers | to the inbox | already stored | failed | command wall (s) | "
        "in the run (s) | messages/s (run) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (label, wall), row in zip(walls, runs, strict=True):
        rate = f"{row['read'] / row['seconds']:,.0f}" if row["read"] and row["seconds"] else "—"
        lines.append(
            f"| {label} | {row['read']:,} | {row['matched']:,} | {row['unmatched']:,} | "
            f"{row['duplicates']:,} | {row['failed']:,} | {wall:.2f} | {row['seconds']:.2f} | {rate} |"
        )
    table = "\n".join(lines)
    print(table)
    section_write(
        "mail-fetch",
        f"## Mail fetch from IMAP ({count:,} messages, {filled['bytes'] / 1024 / 1024:.1f} MB)\n\n"
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {_machine()},\n"
        "with `make bench BENCH_ARGS='--only mail_fetch'`, PostgreSQL, a throw-away Dovecot 2.3 on "
        f"127.0.0.1, {customers:,} demo customers.\n\n"
        "`manage.py fetch_mail --account bench` three times: *command wall* includes Django's start-up; "
        "*in the run* is the MailFetchRun's own start to finish (log in, UID search, sizes and bodies "
        "fetched 50 a command, each message parsed, its quoted text folded, matched or threaded, stored, "
        "its PDF checked and written to the media storage). Messages: 60% from customers' addresses, "
        "10% replies to a CRM mail, 30% unknown senders; every one with a 30-line quoted history and a "
        "signature.\n\n"
        f"{table}\n",
    )
