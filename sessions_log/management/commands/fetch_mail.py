"""``manage.py fetch_mail``: read the mailboxes now (all active ones, or one), or an .eml or mbox file."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions_log.mail_in import mail_fetch_all, mail_fetch_file, mail_fetch_mbox, run_summary
from sessions_log.models import MailAccount, MailFetchRun


class Command(BaseCommand):
    help = "Read new mail: every active mailbox, one (--account), or a file (--file x.eml, --mbox x.mbox)."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--account", help="the name of one mailbox (read even when inactive)")
        source.add_argument("--file", help="an .eml file holding one message")
        source.add_argument("--mbox", help="an mbox file")
        parser.add_argument(
            "--received-by",
            help="for files: the user name unmatched mail is received by (the inbox it shows in)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["received_by"]:
            user = get_user_model().objects.filter(username=options["received_by"]).first()
            if user is None:
                raise CommandError(f"No user named {options['received_by']!r}.")
        if options["file"]:
            runs = [mail_fetch_file(path=options["file"], received_by=user)]
        elif options["mbox"]:
            runs = [mail_fetch_mbox(path=options["mbox"], received_by=user)]
        else:
            if options["account"] and not MailAccount.objects.filter(name=options["account"]).exists():
                raise CommandError(f"No mailbox named {options['account']!r}.")
            runs = mail_fetch_all(name=options["account"] or "")
            if not runs:
                self.stdout.write("Nothing read: no active mailbox, or each is being read by another run.")
        for run in runs:
            self._report(run)
        if any(run.error for run in runs):
            raise CommandError("; ".join(f"{run.source}: {run.error}" for run in runs if run.error))

    def _report(self, run: MailFetchRun) -> None:
        summary = run_summary(run)
        self.stdout.write(
            "{source}: {read} read, {matched} on customers, {unmatched} to the inbox, "
            "{duplicates} already stored, {failed} failed".format(**summary)
        )
        for problem in run.problems:
            self.stdout.write(f"  {problem['message']}: {problem['reason']}")
