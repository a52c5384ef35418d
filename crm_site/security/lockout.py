"""Login lockout: after 5 failed logins for one username or from one IP, both are refused for 15 minutes.

Counters live in Django's cache (Redis in production, so every web process sees the same counts). Each
failed login (password or second-factor code) counts once against the username and once against the
client IP; at ``CRM_LOGIN_FAILURE_LIMIT`` failures within ``CRM_LOGIN_LOCKOUT_SECONDS`` that key is locked
for ``CRM_LOGIN_LOCKOUT_SECONDS``. Attempts made while locked are refused before the password is checked
and are not counted, so the lock ends on time. Unknown usernames count like known ones, and the message
is the same, so the lock never tells whether an account exists. A successful login clears the
username's counter, not the IP's (one valid account must not reset an address that is guessing others).

Why not django-axes: its app ships models whose migrations use ``AutoField`` (rejected by
django-mongodb-backend), so even with its cache handler it would need a MongoDB migration set for four
tables we never write. The rule here is a few cache keys.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm_site.security.client_ip import client_ip

LOCKED_MESSAGE = _(
    "Too many failed login attempts for this account or from this address. Try again in %(minutes)d minutes."
)


@dataclass(frozen=True)
class LockoutPolicy:
    limit: int
    seconds: int

    @classmethod
    def from_settings(cls) -> LockoutPolicy:
        return cls(
            limit=int(getattr(settings, "CRM_LOGIN_FAILURE_LIMIT", 5)),
            seconds=int(getattr(settings, "CRM_LOGIN_LOCKOUT_SECONDS", 15 * 60)),
        )

    @property
    def minutes(self) -> int:
        return max(1, round(self.seconds / 60))


def _now() -> float:
    return time.time()


def _cache() -> Any:
    """The cache holding the counters: ``CRM_LOCKOUT_CACHE`` (default: the shared default cache)."""
    return caches[getattr(settings, "CRM_LOCKOUT_CACHE", "default")]


def _keys(*, username: str | None, ip: str | None) -> Iterator[str]:
    if username:
        digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
        yield f"login-lockout:user:{digest}"
    if ip:
        yield f"login-lockout:ip:{ip}"


def login_locked(*, username: str | None, ip: str | None) -> bool:
    """True while the username or the address is locked."""
    now = _now()
    locks = _cache().get_many([f"{key}:until" for key in _keys(username=username, ip=ip)])
    return any(float(until) > now for until in locks.values())


def login_failure_record(*, username: str | None, ip: str | None) -> bool:
    """Count one failed attempt against the username and the address; True when that locked either."""
    if login_locked(username=username, ip=ip):
        return True
    policy = LockoutPolicy.from_settings()
    cache = _cache()
    now = _now()
    locked = False
    for key in _keys(username=username, ip=ip):
        # add + incr: atomic on Redis, so parallel guesses cannot slip under the limit.
        cache.add(f"{key}:count", 0, timeout=policy.seconds)
        try:
            count = cache.incr(f"{key}:count")
        except ValueError:  # expired between add and incr
            cache.set(f"{key}:count", 1, timeout=policy.seconds)
            count = 1
        if count >= policy.limit:
            cache.set(f"{key}:until", now + policy.seconds, timeout=policy.seconds)
            cache.delete(f"{key}:count")
            locked = True
    return locked


def login_success_record(*, username: str | None) -> None:
    """A successful login clears the username's failures (not the address's)."""
    for key in _keys(username=username, ip=None):
        _cache().delete(f"{key}:count")


def login_lockout_clear(*, username: str | None, ip: str | None) -> None:
    """Forget the failures and lock of a username and an address (a manager unlocking someone)."""
    _cache().delete_many(
        [f"{key}:{part}" for key in _keys(username=username, ip=ip) for part in ("count", "until")]
    )


def locked_message() -> str:
    return str(LOCKED_MESSAGE % {"minutes": LockoutPolicy.from_settings().minutes})


def _username_from(credentials: dict[str, Any]) -> str | None:
    from django.contrib.auth import get_user_model

    value = credentials.get(get_user_model().USERNAME_FIELD, credentials.get("username"))
    return value if isinstance(value, str) else None


class LockoutBackend:
    """First in ``AUTHENTICATION_BACKENDS``: refuses every ``authenticate()`` for a locked username or
    address, whatever calls it (the login form, the admin, any API that checks passwords)."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is None:
            return None
        if login_locked(username=_username_from(credentials), ip=client_ip(request)):
            raise PermissionDenied(locked_message())
        return None


@receiver(user_login_failed, dispatch_uid="crm_site.security.lockout.failed")
def _count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is not None:
        login_failure_record(username=_username_from(credentials), ip=client_ip(request))


@receiver(user_logged_in, dispatch_uid="crm_site.security.lockout.succeeded")
def _clear_failures(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    login_success_record(username=user.get_username())
