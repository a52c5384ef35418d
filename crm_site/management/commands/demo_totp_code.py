"""manage.py demo_totp_code <username>: the current second-factor code of a demo login."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm_site.accounts import DEMO_LOGINS
from crm_site.demo import add_production_guard, refuse_in_production
from crm_site.security.models import TwoFactorDevice
from crm_site.security.two_factor import device_secret


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo login (admin, manager), for a demo without a phone."

    def add_arguments(self, parser):
        add_production_guard(parser)
        parser.add_argument("username", choices=[login.username for login in DEMO_LOGINS if login.totp_key])

    def handle(self, *args, **options):
        import pyotp

        refuse_in_production(options)
        user = get_user_model().objects.filter(username=options["username"]).first()
        device = TwoFactorDevice.objects.filter(user=user).first() if user else None
        if device is None:
            raise CommandError("No second factor for that login: run `manage.py bootstrap_demo_users` first.")
        self.stdout.write(pyotp.TOTP(device_secret(device)).now())
