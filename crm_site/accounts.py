"""Staff accounts: the demo logins that ``make run`` prints.

The demo admin and manager need a second factor (``CRM_REQUIRE_2FA``): they get a device with a fixed,
published key (a demo, like their passwords), which ``bootstrap_demo_users`` prints for an authenticator
app; ``manage.py demo_totp_code manager`` prints the current code for whoever has no app at hand.
Both commands refuse to run under production settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from crm_site.db import atomic
from crm_site.roles import sync_roles
from crm_site.security.two_factor import demo_device_set


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    roles: tuple[str, ...]
    is_staff: bool = False
    is_superuser: bool = False
    first_name: str = ""
    last_name: str = ""
    totp_key: str = ""


DEMO_LOGINS = (
    DemoLogin(
        "admin",
        "admin-demo-2026",
        (),
        is_staff=True,
        is_superuser=True,
        first_name="Ada",
        last_name="Admin",
        totp_key="CRMDEMOADMINTOTPKEYFORLOCALUSE22",
    ),
    DemoLogin(
        "manager",
        "manager-demo-2026",
        ("Manager",),
        is_staff=True,
        first_name="Mei",
        last_name="Wang",
        totp_key="CRMDEMOMANAGERTOTPKEYFORLOCALUSE",
    ),
    DemoLogin("sales1", "sales-demo-2026", ("Sales",), first_name="Lei", last_name="Zhang"),
    DemoLogin("sales2", "sales-demo-2026", ("Sales",), first_name="Sam", last_name="Taylor"),
    DemoLogin("marketing", "marketing-demo-2026", ("Marketing",), first_name="Jing", last_name="Li"),
    DemoLogin("service", "service-demo-2026", ("Service",), first_name="Chris", last_name="Chen"),
)


@atomic
def demo_users_ensure() -> dict[str, Any]:
    """Create (or reset) the demo logins with their roles; idempotent."""
    sync_roles()
    user_model = get_user_model()
    users = {}
    for login in DEMO_LOGINS:
        user, _created = user_model.objects.get_or_create(username=login.username)
        user.first_name, user.last_name = login.first_name, login.last_name
        user.email = f"{login.username}@example.com"
        user.is_staff, user.is_superuser, user.is_active = login.is_staff, login.is_superuser, True
        user.set_password(login.password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=login.roles))
        if login.totp_key:
            demo_device_set(user=user, secret=login.totp_key)
        users[login.username] = user
    return users
