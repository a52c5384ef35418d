"""Response headers Django itself does not set: ``Permissions-Policy`` (docs/security.md "Headers").

The Content-Security-Policy is django-csp's (``CONTENT_SECURITY_POLICY`` in settings); Referrer-Policy,
X-Content-Type-Options, Cross-Origin-Opener-Policy and (in production) HSTS are Django's
``SecurityMiddleware``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def permissions_policy_header(features: dict[str, list[str]]) -> str:
    """``{"camera": [], "fullscreen": ["self"]}`` as ``camera=(), fullscreen=(self)``."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in features.items())


class PermissionsPolicyMiddleware:
    """Turns off the browser features the CRM never uses (``CRM_PERMISSIONS_POLICY``) on every response,
    so a script that got in cannot reach the camera, microphone, location or payment APIs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.header = permissions_policy_header(settings.CRM_PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
