"""TOTP second factor: managers and superusers enrol and verify before any page; codes are single-use;
recovery codes; the admin's login goes the same way; a manager resets a lost phone, on the record."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.core.management import call_command

from crm_site.security import two_factor
from crm_site.security.models import RecoveryCode, TwoFactorDevice
from crm_site.testing import enrol_second_factor, totp_code_for

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/two-factor/"
SETUP = "/accounts/two-factor/setup/"


def _password_login(client, username, next_url=""):
    data = {"username": username, "password": f"pw-{username}"}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


_enrol = enrol_second_factor


def _page_key(html: str) -> str:
    return re.search(r"data-totp-key>([A-Z2-7 ]+)<", html).group(1).replace(" ", "")


def test_a_managers_first_login_must_enrol_before_any_page(client, manager_user):
    response = _password_login(client, "boss")
    assert response["Location"] == f"{VERIFY}?next=%2F"
    assert client.get(response["Location"])["Location"] == f"{SETUP}?next=%2F"
    # Password alone reaches nothing: pages, the admin, the API, the recovery codes.
    for url in [
        "/",
        "/customers/",
        "/admin/",
        "/admin/auth/user/",
        "/search/?q=a",
        "/accounts/two-factor/recovery-codes/",
    ]:
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked["Location"].startswith(VERIFY), url

    page = client.get(f"{SETUP}?next=/").content.decode()
    assert "<svg" in page and "QR code" in page
    key = _page_key(page)
    refused = client.post(
        f"{SETUP}?next=/", {"code": "000000" if pyotp.TOTP(key).now() != "000000" else "111111"}
    )
    assert "That code does not match" in refused.content.decode()
    done = client.post(SETUP, {"code": pyotp.TOTP(key).now(), "next": "/"})
    assert done["Location"] == "/accounts/two-factor/recovery-codes/?next=%2F"
    codes_page = client.get(done["Location"]).content.decode()
    codes = re.findall(r"<li>([2-9a-z]{4}-[2-9a-z]{4})</li>", codes_page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200

    device = TwoFactorDevice.objects.get(user=manager_user)
    assert key not in device.secret_encrypted and two_factor.device_secret(device) == key
    assert all(
        code not in "".join(RecoveryCode.objects.values_list("code_hash", flat=True)) for code in codes
    )
    # Shown once: the codes page and the setup page no longer show them or the key.
    again = client.get("/accounts/two-factor/recovery-codes/").content.decode()
    assert not any(code in again for code in codes) and "10 unused recovery codes left" in again
    assert client.get(SETUP).status_code == 302


def test_an_enrolled_manager_logs_in_with_a_code_once_and_the_session_key_changes(client, manager_user):
    _enrol(manager_user)
    _password_login(client, "boss")
    password_only_key = client.session.session_key
    page = client.post(VERIFY, {"code": "12345x", "next": "/customers/"})
    assert "That code is not valid" in page.content.decode()
    code = totp_code_for("boss")
    response = client.post(VERIFY, {"code": code, "next": "/customers/"})
    assert response["Location"] == "/customers/"
    assert client.session.session_key != password_only_key
    assert client.get("/customers/").status_code == 200

    # The same code again (a replay within its 30 s) is refused.
    client.post("/accounts/logout/")
    _password_login(client, "boss")
    assert "That code is not valid" in client.post(VERIFY, {"code": code}).content.decode()
    assert client.get("/").status_code == 302


def test_a_recovery_code_works_once_and_new_ones_replace_the_old(client, manager_user):
    _secret, codes = _enrol(manager_user)
    _password_login(client, "boss")
    response = client.post(VERIFY, {"code": codes[3].upper().replace("-", " "), "next": "/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "You logged in with a recovery code; 9 are left." in response.content.decode()

    client.post("/accounts/logout/")
    _password_login(client, "boss")
    assert "That code is not valid" in client.post(VERIFY, {"code": codes[3]}).content.decode()
    assert client.post(VERIFY, {"code": codes[4]}).status_code == 302

    fresh = client.post("/accounts/two-factor/recovery-codes/", follow=True).content.decode()
    new_codes = re.findall(r"<li>([2-9a-z]{4}-[2-9a-z]{4})</li>", fresh)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    client.post("/accounts/logout/")
    _password_login(client, "boss")
    assert "That code is not valid" in client.post(VERIFY, {"code": codes[5]}).content.decode()
    assert client.post(VERIFY, {"code": new_codes[0]}).status_code == 302


def test_wrong_codes_count_towards_the_lockout(client, manager_user):
    _enrol(manager_user)
    _password_login(client, "boss")
    answers = [client.post(VERIFY, {"code": f"{n:06d}"}).content.decode() for n in range(100000, 100005)]
    assert "Too many failed login attempts" in answers[-1]
    assert (
        "Too many failed login attempts"
        in client.post(VERIFY, {"code": totp_code_for("boss")}).content.decode()
    )
    assert client.get("/").status_code == 302


def test_a_superuser_needs_the_second_factor_too_and_sales_staff_do_not(client, make_user, sales_user):
    make_user("root", is_superuser=True, is_staff=True)
    assert _password_login(client, "root")["Location"].startswith(VERIFY)
    client.post("/accounts/logout/")
    assert _password_login(client, "sales_a")["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_sales_user_who_enrolled_is_asked_for_the_code(client, sales_user):
    _enrol(sales_user)
    assert _password_login(client, "sales_a")["Location"].startswith(VERIFY)
    assert client.get("/").status_code == 302


def test_with_the_requirement_off_a_manager_without_a_device_logs_in_with_a_password(
    client, manager_user, settings
):
    settings.CRM_REQUIRE_2FA = False
    assert _password_login(client, "boss")["Location"] == "/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_is_the_sites_login_with_its_second_factor(client, manager_user):
    response = client.get("/admin/login/?next=/admin/customers/")
    assert response["Location"] == "/accounts/login/?next=/admin/customers/"
    _enrol(manager_user)
    after_password = _password_login(client, "boss", next_url="/admin/")
    assert after_password["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"code": totp_code_for("boss"), "next": "/admin/"})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_logged_in_non_manager_gets_403_from_the_admin_login_not_a_loop(client, sales_user):
    client.force_login(sales_user)
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_a_manager_resets_another_users_second_factor_from_the_admin_on_the_record(
    client, manager_user, make_user
):
    other = make_user("boss2", "Manager")
    _enrol(other)
    device = TwoFactorDevice.objects.get(user=other)
    client.force_login(manager_user)
    listing = client.get("/admin/crm_site/twofactordevice/")
    assert listing.status_code == 200 and "boss2" in listing.content.decode()
    response = client.post(
        "/admin/crm_site/twofactordevice/",
        {"action": "reset", "_selected_action": [str(device.pk)]},
        follow=True,
    )
    assert "Second factor reset for 1 users." in response.content.decode()
    assert not TwoFactorDevice.objects.filter(user=other).exists()
    assert not RecoveryCode.objects.filter(device_id=device.pk).exists()
    entry = LogEntry.objects.get(object_id=str(device.pk))
    assert (entry.user_id, entry.action_flag) == (manager_user.pk, DELETION)
    assert "boss2" in entry.change_message
    # Their next login enrols again.
    client.post("/accounts/logout/")
    _password_login(client, "boss2")
    assert client.get(VERIFY)["Location"].startswith(SETUP)


def test_a_manager_cannot_reset_a_superusers_second_factor(client, manager_user, make_user):
    root = make_user("root", is_superuser=True, is_staff=True)
    _enrol(root)
    device = TwoFactorDevice.objects.get(user=root)
    client.force_login(manager_user)
    response = client.post(
        "/admin/crm_site/twofactordevice/",
        {"action": "reset", "_selected_action": [str(device.pk)]},
        follow=True,
    )
    assert "Only a superuser may reset" in response.content.decode()
    assert TwoFactorDevice.objects.filter(pk=device.pk).exists()


def test_sales_staff_cannot_open_the_device_admin(client, sales_user):
    client.force_login(sales_user)
    assert client.get("/admin/crm_site/twofactordevice/").status_code == 302


def test_device_ids_are_uuids_and_verify_whatever_type_the_users_key_is(client, manager_user):
    """django-otp keeps ``int(device_id)`` in the session, which fails for MongoDB's ObjectId keys;
    here a device is found by its user and its UUID, on every backend (CI runs this on MongoDB)."""
    _enrol(manager_user)
    device = TwoFactorDevice.objects.get(user_id=manager_user.pk)
    assert isinstance(device.pk, uuid.UUID)
    assert TwoFactorDevice.objects.get(pk=str(device.pk)).user_id == manager_user.pk
    _password_login(client, "boss")
    assert client.post(VERIFY, {"code": totp_code_for("boss")})["Location"] == "/"


def test_an_unreadable_secret_is_a_clear_message_not_a_500(client, manager_user, settings):
    _enrol(manager_user)
    settings.CRM_TWO_FACTOR_KEYS = ["2b9wL3m-VZ1x8sJYm3GkG2YQh9pG0nq8rGqg2sSfd2M="]
    _password_login(client, "boss")
    response = client.post(VERIFY, {"code": "123456"})
    assert response.status_code == 200
    assert "cannot be read with the configured keys" in response.content.decode()


def test_secrets_rotate_to_a_new_key_and_old_devices_still_verify(manager_user, settings):
    from cryptography.fernet import Fernet

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CRM_TWO_FACTOR_KEYS = [old_key]
    secret, _codes = _enrol(manager_user)
    settings.CRM_TWO_FACTOR_KEYS = [new_key, old_key]
    device = TwoFactorDevice.objects.get(user=manager_user)
    assert two_factor.device_secret(device) == secret


def test_demo_manager_and_admin_get_a_printed_key_and_the_code_command_works(client, capsys):
    call_command("bootstrap_demo_users")
    printed = capsys.readouterr().out
    assert "TOTP key CRMDEMOMANAGERTOTPKEYFORLOCALUSE" in printed
    assert "demo_totp_code manager" in printed
    call_command("demo_totp_code", "manager")
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()
    client.post("/accounts/login/", {"username": "manager", "password": "manager-demo-2026"})
    assert client.post(VERIFY, {"code": code})["Location"] == "/"
    assert client.get("/admin/").status_code == 200
