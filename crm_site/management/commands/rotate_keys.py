"""manage.py rotate_keys: re-encrypt every encrypted column with the first CRM_FIELD_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand

from crm_site.key_rotation import BATCH_SIZE, RotationCount, rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt the personal data encrypted at rest with the first key of CRM_FIELD_ENCRYPTION_KEYS, "
        "in batches by primary key; restartable (rows already on the newest key are skipped)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per batch")
        parser.add_argument(
            "--max-batches",
            type=int,
            default=None,
            help="stop after this many batches per model (spread a large run; run again to go on)",
        )

    def handle(self, *args, **options):
        def progress(count: RotationCount) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"  {count.model}: {count.rows} rows, {count.rotated} re-encrypted")

        counts = rotate_all(
            batch_size=options["batch_size"], max_batches=options["max_batches"], progress=progress
        )
        for count in counts:
            self.stdout.write(
                f"{count.model}: {count.rows} rows read, {count.rotated} values re-encrypted, "
                f"{count.current} already on the newest key, {count.unreadable} unreadable"
            )
        unreadable = sum(count.unreadable for count in counts)
        if unreadable:
            self.stdout.write(
                self.style.WARNING(
                    f"{unreadable} values no key can read were left as they are: keep the old keys until "
                    "they are found and fixed."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS("Done: drop the old keys once every server has the new ring.")
            )
