"""manage.py bootstrap_demo_users: create the demo logins and print them."""

from django.core.management.base import BaseCommand

from crm_site.accounts import DEMO_LOGINS, demo_users_ensure


class Command(BaseCommand):
    help = "Create or reset the demo logins (admin, manager, sales, marketing, service) and print them."

    def handle(self, *args, **options):
        demo_users_ensure()
        self.stdout.write(self.style.SUCCESS("Demo logins (for a local demo only):"))
        for login in DEMO_LOGINS:
            roles = ", ".join(login.roles) or "superuser"
            self.stdout.write(f"  {login.username:<10} {login.password:<22} {roles}")
