"""Session timeouts and the second-factor gate, for every request of a logged-in user.

``SessionTimeoutMiddleware``: a session idle for ``CRM_SESSION_IDLE_SECONDS`` (30 min) or older than
``CRM_SESSION_ABSOLUTE_SECONDS`` (12 h) since its login is logged out and sent to the login page. The
last-seen time is written at most once a minute (a session write per page would be a query per page).

``TwoFactorMiddleware``: a session that still owes its second factor reaches only the second-factor
pages, logout and the language switch; everything else (pages, admin, API with the session cookie)
redirects to the verification (or enrolment) page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from crm_site.security import two_factor

LOGIN_AT_KEY = "crm_login_at"
SEEN_AT_KEY = "crm_seen_at"
SEEN_WRITE_EVERY = 60  # seconds; the idle clock needs no finer grain, and each write is a session save


def seen_write_every() -> int:
    return int(getattr(settings, "CRM_SESSION_SEEN_WRITE_SECONDS", SEEN_WRITE_EVERY))


def idle_seconds() -> int:
    return int(getattr(settings, "CRM_SESSION_IDLE_SECONDS", 30 * 60))


def absolute_seconds() -> int:
    return int(getattr(settings, "CRM_SESSION_ABSOLUTE_SECONDS", 12 * 3600))


@receiver(user_logged_in, dispatch_uid="crm_site.security.session_start")
def _session_start(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[LOGIN_AT_KEY] = now
    request.session[SEEN_AT_KEY] = now
    two_factor.session_start(request, user)


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = time.time()
            login_at = float(session.get(LOGIN_AT_KEY) or now)
            seen_at = float(session.get(SEEN_AT_KEY) or now)
            if now - seen_at > idle_seconds() or now - login_at > absolute_seconds():
                logout(request)
                messages.info(request, _("Your session has expired. Please log in again."))
                return redirect_to_login(request.get_full_path())
            if LOGIN_AT_KEY not in session:
                session[LOGIN_AT_KEY] = now
            if now - seen_at >= seen_write_every() or SEEN_AT_KEY not in session:
                session[SEEN_AT_KEY] = now
        return self.get_response(request)


def _open(path: str) -> bool:
    """May a session that owes its second factor open ``path``?"""
    exact = {
        reverse("two-factor-verify"),
        reverse("two-factor-setup"),
        reverse("logout"),
        reverse("set_language"),
        reverse("favicon"),
        reverse("healthz"),
    }
    static = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}"
    return path in exact or path.startswith(static)


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and two_factor.session_state(request) == two_factor.PENDING
            and not _open(request.path_info)
        ):
            target = reverse("two-factor-verify")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
