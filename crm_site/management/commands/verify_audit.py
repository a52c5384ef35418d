"""``manage.py verify_audit``: walk the audit trail's hash chain and report its first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crm_site.audit.trail import seal_pending, verify_chain


class Command(BaseCommand):
    help = "Check that no audit entry or seal was edited, deleted or reordered in the database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seal", action="store_true", help="Seal pending entries first.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seal"]:
            self.stdout.write(f"Sealed {seal_pending()} pending entries.")
        verdict = verify_chain()
        if verdict.problem:
            raise CommandError(f"Audit trail broken after {verdict.seals} intact seals: {verdict.problem}.")
        self.stdout.write(
            f"Audit trail intact: {verdict.seals} seals, {verdict.entries} entries; "
            f"{verdict.pending} entries waiting to be sealed."
        )
