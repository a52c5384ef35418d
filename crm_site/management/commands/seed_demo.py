"""manage.py seed_demo: deterministic bilingual demo data for every app that ships a seeder."""

import time

from django.core.management.base import BaseCommand, CommandError

from crm_site.accounts import demo_users_ensure
from crm_site.demo import SeedContext, add_production_guard, refuse_in_production, seeders


class Command(BaseCommand):
    help = "Create synthetic demo data: customers and everything the installed apps hang on them."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="How many customers (default 2000).")
        parser.add_argument(
            "--seed", type=int, default=42, help="Random seed: the same seed gives the same data."
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when customers already exist (used by make run).",
        )
        parser.add_argument("--only", nargs="*", default=None, help="Only these apps' seeders.")
        add_production_guard(parser)

    def handle(self, *args, customers, seed, batch_size, if_empty, only, **options):
        refuse_in_production(options)
        if customers < 0:
            raise CommandError("--customers must be 0 or more.")
        if if_empty and self._has_customers():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        users = demo_users_ensure()
        context = SeedContext(
            customers=customers, seed=seed, users=users, batch_size=batch_size, log=self.stdout.write
        )
        for label, seed_app in seeders():
            if only and label not in only:
                continue
            started = time.perf_counter()
            seed_app(context)
            self.stdout.write(f"{label}: seeded in {time.perf_counter() - started:.1f}s")
        self.stdout.write(self.style.SUCCESS(f"Seeded demo data for {customers} customers (seed {seed})."))

    def _has_customers(self) -> bool:
        from django.apps import apps

        try:
            model = apps.get_model("customers", "Customer")
        except LookupError:
            return False
        return model.objects.exists()
