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
            key = f"  TOTP key {login.totp_key}" if login.totp_key else ""
            self.stdout.write(f"  {login.username:<10} {login.password:<22} {roles}{key}")
        self.stdout.write(
            "admin and manager also need a 6-digit code: add their TOTP key to an authenticator app, "
            "or run `manage.py demo_totp_code manager` for the current one."
        )
