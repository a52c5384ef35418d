"""TOTP second factor: enrolment, verification, recovery codes, and who must use it.

Managers and superusers (and anyone who enrolled) log in in two steps: password, then a 6-digit code
from an authenticator app or one of 10 one-time recovery codes. ``CRM_REQUIRE_2FA`` (on by default)
makes it compulsory for managers and superusers: until they have enrolled and verified in the current
session every page but the second-factor pages answers with a redirect (``middleware``).

Secrets are encrypted with Fernet (``CRM_TWO_FACTOR_KEYS``: the first key encrypts, every key decrypts,
so keys can be rotated; by default one key derived from ``SECRET_KEY``) and never shown after
enrolment. Recovery codes are stored as keyed hashes. Device ids are UUIDs, compared as UUIDs, so they
verify the same on MongoDB (where users' ids are ObjectIds) as on SQL databases.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import pyotp
import segno
from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from crm_site.crypto import keyring
from crm_site.db import atomic
from crm_site.security.models import RecoveryCode, TwoFactorDevice

log = logging.getLogger("crm_site.security")

ISSUER = "CRM"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i

# Session keys: the second-factor state of this login, and an enrolment's secret before it is confirmed.
STATE_KEY = "crm_2fa"
PENDING, VERIFIED, NOT_REQUIRED = "pending", "verified", "off"
SETUP_SECRET_KEY = "crm_2fa_setup_secret"
FRESH_CODES_KEY = "crm_2fa_fresh_codes"


def _fernet() -> MultiFernet:
    # The project's one key-ring helper; purpose "two-factor" derives the same fallback key as before
    # (sha256 of "crm-two-factor:<SECRET_KEY>"), so enrolled devices keep working.
    return keyring("CRM_TWO_FACTOR_KEYS", purpose="two-factor")


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def device_secret(device: TwoFactorDevice) -> str:
    """The device's TOTP secret, decrypted (for verifying codes; never rendered after enrolment)."""
    try:
        return _fernet().decrypt(device.secret_encrypted.encode()).decode()
    except InvalidToken as error:
        raise ValidationError(
            _("This second factor cannot be read with the configured keys; ask a manager to reset it."),
            code="undecryptable",
        ) from error


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(*, user: Any, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG document (segno's markup: paths only, no text of ours)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def user_is_manager_or_superuser(user: Any) -> bool:
    from crm_site.visibility import sees_everything

    return sees_everything(user)


def two_factor_required(user: Any) -> bool:
    """Must this user pass a second factor at login? Enrolled users always; managers and superusers
    while ``CRM_REQUIRE_2FA`` is on."""
    if TwoFactorDevice.objects.filter(user=user).exists():
        return True
    return bool(getattr(settings, "CRM_REQUIRE_2FA", True)) and user_is_manager_or_superuser(user)


def _normalise_totp(code: str) -> str | None:
    digits = "".join(code.split())
    return digits if len(digits) == 6 and digits.isdigit() else None


def _matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step (previous, current or next: clocks drift) whose code is ``code``."""
    totp = pyotp.TOTP(secret)
    current = int(time.time() if now is None else now) // STEP_SECONDS
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_verify(*, device: TwoFactorDevice, code: str) -> bool:
    """True when ``code`` is the device's current code and was not used before (each step once)."""
    digits = _normalise_totp(code)
    if digits is None:
        return False
    step = _matching_step(device_secret(device), digits)
    if step is None:
        return False
    # A conditional update: of two requests with the same code, only one moves the step forward.
    fresh = Q(last_step__isnull=True) | Q(last_step__lt=step)
    updated = TwoFactorDevice.objects.filter(fresh, pk=device.pk).update(
        last_step=step, last_used_at=timezone.now()
    )
    return updated == 1


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.casefold() if ch.isalnum())


def _recovery_hash(code: str) -> str:
    return salted_hmac("crm_site.security.recovery_code", _normalise_recovery(code)).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def recovery_codes_remaining(device: TwoFactorDevice) -> int:
    return RecoveryCode.objects.filter(device=device, used_at__isnull=True).count()


@atomic
def recovery_codes_regenerate(*, device: TwoFactorDevice) -> list[str]:
    """Replace every recovery code of the device with 10 new ones; returns them (shown once)."""
    old = list(RecoveryCode.objects.filter(device=device).values_list("pk", flat=True))
    if old:
        RecoveryCode.objects.filter(pk__in=old).delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(device=device, code_hash=_recovery_hash(c)) for c in codes)
    return codes


def recovery_code_use(*, device: TwoFactorDevice, code: str) -> bool:
    """Spend one unused recovery code; False when it is unknown or already used."""
    if len(_normalise_recovery(code)) != 8:
        return False
    updated = RecoveryCode.objects.filter(
        device=device, code_hash=_recovery_hash(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    return updated == 1


@atomic
def device_confirm(*, user: Any, secret: str, code: str) -> tuple[TwoFactorDevice, list[str]]:
    """Enrol: the code proves the user's app holds ``secret``; saves the device and its recovery codes."""
    if TwoFactorDevice.objects.filter(user=user).exists():
        raise ValidationError(
            {"code": _("A second factor is already set up for this account.")}, code="exists"
        )
    digits = _normalise_totp(code)
    step = _matching_step(secret, digits) if digits else None
    if step is None:
        raise ValidationError(
            {"code": _("That code does not match. Enter the 6 digits your app shows now.")}, code="invalid"
        )
    device = TwoFactorDevice(user=user, secret_encrypted=secret_encrypt(secret), last_step=step)
    device.full_clean()
    device.save()
    log.info("second factor enrolled user=%s device=%s", user.pk, device.pk)
    return device, recovery_codes_regenerate(device=device)


@atomic
def two_factor_reset(*, device: TwoFactorDevice, by: Any) -> None:
    """Remove a user's second factor (a lost phone): they enrol again at their next login."""
    if device.user.is_superuser and not by.is_superuser:
        raise ValidationError(_("Only a superuser may reset a superuser's second factor."), code="forbidden")
    from django.contrib.admin.models import DELETION, LogEntry

    # On the record: the admin's history of the device (who, when) and the security log.
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=TwoFactorDevice.objects.filter(pk=device.pk),
        action_flag=DELETION,
        change_message=f"Second factor of {device.user.get_username()} reset",
    )
    log.warning("second factor reset user=%s device=%s by=%s", device.user_id, device.pk, by.pk)
    codes = list(RecoveryCode.objects.filter(device=device).values_list("pk", flat=True))
    if codes:
        RecoveryCode.objects.filter(pk__in=codes).delete()
    TwoFactorDevice.objects.filter(pk=device.pk).delete()


@atomic
def demo_device_set(*, user: Any, secret: str) -> TwoFactorDevice:
    """Demo logins only: give ``user`` a device with a known secret (replacing any other)."""
    TwoFactorDevice.objects.filter(user=user).delete()
    device = TwoFactorDevice.objects.create(user=user, secret_encrypted=secret_encrypt(secret))
    recovery_codes_regenerate(device=device)
    return device


# Session state --------------------------------------------------------------------------------------


def session_state(request: HttpRequest) -> str:
    """This login's second-factor state; computed (one query) for a session that predates it."""
    state = request.session.get(STATE_KEY)
    if state not in (PENDING, VERIFIED, NOT_REQUIRED):
        state = PENDING if two_factor_required(request.user) else NOT_REQUIRED
        request.session[STATE_KEY] = state
    return state


def session_start(request: HttpRequest, user: Any) -> None:
    """At login: this session still owes a second factor if the user needs one."""
    request.session[STATE_KEY] = PENDING if two_factor_required(user) else NOT_REQUIRED


def session_verified(request: HttpRequest) -> None:
    """The second factor passed: a new session key (the password-only one is dead) marked verified."""
    request.session.cycle_key()
    request.session[STATE_KEY] = VERIFIED
    request.session.pop(SETUP_SECRET_KEY, None)
