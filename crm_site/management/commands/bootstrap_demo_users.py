"""manage.py bootstrap_demo_users: create the demo logins and print them."""

from django.core.management.base import BaseCommand

from crm_site.accounts import DEMO_LOGINS, demo_users_ensure
from crm_site.demo import add_production_guard, refuse_in_production


class Command(BaseCommand):
    help = "Create or reset the demo logins (admin, manager, sales, marketing, service) and print them."

    def add_arguments(self, parser):
        add_production_guard(parser)

    def handle(self, *args, **options):
        refuse_in_production(options)
        demo_users_ensure()
        self.stdout.write(self.style.SUCCESS("Demo logins (for a local demo only):"))
        for login in DEMO_LOGINS:
            roles = ", ".join(login.roles) or "superuser"
            self.stdout.write(f"  {login.username:<10} {login.password:<22} {roles}")
