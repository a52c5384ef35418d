"""manage.py rebuild_profiles [--as-of YYYY-MM-DD] [--sync]: rebuild every customer profile."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError

from profiles.models import ProfileRun
from profiles.services.rebuild import (
    DEFAULT_CHUNK_SIZE,
    RebuildInProgress,
    end_of_day,
    profile_rebuild_start,
    profile_rebuild_sync,
)


class Command(BaseCommand):
    help = "Rebuild the customer profiles (queued on the workers, or in this process with --sync)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", help="Compute as of the end of this day (YYYY-MM-DD), using only data up to it."
        )
        parser.add_argument(
            "--sync", action="store_true", help="Run in this process instead of queueing tasks."
        )
        parser.add_argument(
            "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="Customers per write chunk."
        )

    def handle(self, *args, as_of, sync, chunk_size, **options):
        moment = None
        if as_of:
            try:
                moment = end_of_day(datetime.date.fromisoformat(as_of))
            except ValueError as error:
                raise CommandError(f"--as-of must be a date like 2025-01-31: {error}") from error
        try:
            if sync:
                run = profile_rebuild_sync(
                    as_of=moment, trigger=ProfileRun.Trigger.COMMAND, chunk_size=chunk_size
                )
            else:
                run = profile_rebuild_start(
                    as_of=moment, trigger=ProfileRun.Trigger.COMMAND, chunk_size=chunk_size
                )
        except RebuildInProgress as error:
            raise CommandError(str(error)) from error
        run.refresh_from_db()
        self.stdout.write(
            f"Run {run.pk}: {run.get_status_display()}, {run.counts.get('profiles', 0)} profiles, "
            f"timings {run.timings}"
        )
