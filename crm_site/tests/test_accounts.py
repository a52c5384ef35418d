"""Login, logout, password change, roles and who reaches the admin."""

import pytest
from django.contrib.auth.models import Group

from crm_site.accounts import DEMO_LOGINS, demo_users_ensure
from crm_site.roles import ROLE_PERMISSIONS, sync_roles

pytestmark = pytest.mark.django_db


def _role_state() -> dict[str, tuple[object, set[str]]]:
    """Every role group: its primary key and the "app_label.codename" permissions it holds."""
    return {
        group.name: (
            group.pk,
            {
                f"{p.content_type.app_label}.{p.codename}"
                for p in group.permissions.select_related("content_type")
            },
        )
        for group in Group.objects.filter(name__in=ROLE_PERMISSIONS)
    }


def test_migrate_creates_every_role_group_through_post_migrate_alone():
    from django.core.management import call_command

    Group.objects.filter(name__in=ROLE_PERMISSIONS).delete()
    call_command("migrate", verbosity=0, interactive=False)
    state = _role_state()
    assert set(state) == set(ROLE_PERMISSIONS)
    assert {"customers.change_customer", "orders.add_salesorder"} <= state["Sales"][1]
    assert "customers.delete_customer" not in state["Sales"][1]
    assert "customers.delete_customer" in state["Manager"][1]


def test_sync_roles_a_second_run_changes_nothing_and_repairs_what_was_changed():
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = sync_roles()
    before = _role_state()
    with CaptureQueriesContext(connection) as queries:
        assert sync_roles() == first
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == [], writes
    assert _role_state() == before
    assert Group.objects.filter(name__in=ROLE_PERMISSIONS).count() == len(ROLE_PERMISSIONS)

    # A permission taken away by hand comes back; one added by hand goes; no group is duplicated.
    sales = Group.objects.get(name="Sales")
    sales.permissions.remove(Permission.objects.get(codename="change_customer"))
    sales.permissions.add(Permission.objects.get(codename="delete_customer"))
    Group.objects.get(name="Marketing").permissions.clear()
    sync_roles()
    assert _role_state() == before

    manager = before["Manager"][1]
    assert {"django_celery_beat.add_periodictask", "auth.view_user"} <= manager
    assert "auth.delete_user" not in manager


def test_login_page_logs_in_and_lands_on_the_dashboard(client, sales_user):
    response = client.post("/accounts/login/", {"username": "sales_a", "password": "pw-sales_a"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"Dashboard" in response.content


def test_login_with_a_wrong_password_shows_an_error_and_stays_anonymous(client, sales_user):
    response = client.post("/accounts/login/", {"username": "sales_a", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_login_ignores_an_offsite_next_url(client, sales_user):
    response = client.post(
        "/accounts/login/?next=https://evil.example.com/",
        {"username": "sales_a", "password": "pw-sales_a", "next": "https://evil.example.com/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_dashboard_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_logout_is_a_post_and_ends_the_session(client, sales_user):
    client.force_login(sales_user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_page_changes_the_password(client, sales_user):
    client.force_login(sales_user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "pw-sales_a",
            "new_password1": "a-Much-better-one-42",
            "new_password2": "a-Much-better-one-42",
        },
    )
    assert response.status_code == 302
    sales_user.refresh_from_db()
    assert sales_user.check_password("a-Much-better-one-42")


def test_managers_reach_the_admin_and_sales_staff_do_not(client, sales_user, manager_user):
    client.force_login(manager_user)
    assert client.get("/admin/").status_code == 200
    client.force_login(sales_user)
    assert client.get("/admin/").status_code == 302


def test_a_staff_flag_alone_does_not_open_the_admin(client, make_user):
    client.force_login(make_user("staffer", "Sales", is_staff=True))
    assert client.get("/admin/").status_code == 302


def test_demo_users_get_their_roles_and_working_passwords():
    users = demo_users_ensure()
    assert set(users) == {login.username for login in DEMO_LOGINS}
    assert users["admin"].is_superuser
    assert list(users["sales1"].groups.values_list("name", flat=True)) == ["Sales"]
    assert users["manager"].check_password("manager-demo-2026")
    demo_users_ensure()  # idempotent: a second run changes nothing
    assert users["manager"].groups.count() == 1


def test_role_permissions_reach_the_user_through_the_group(make_user):
    """Django reads permissions across relations (group -> permission -> content type)."""
    sales = make_user("perm_sales", "Sales")
    assert sales.has_perm("customers.view_customer")
    assert sales.has_perm("customers.change_customer")
    assert not sales.has_perm("customers.delete_customer")
    assert not sales.has_perm("django_celery_beat.change_periodictask")
    assert make_user("perm_boss", "Manager").has_perm("django_celery_beat.change_periodictask")
