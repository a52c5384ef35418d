"""Bearer-token authentication for the JSON APIs other systems call."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from crm_site.models import ApiToken


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, name: str, user: Any) -> tuple[ApiToken, str]:
    """Create a token; the plain key is returned once and never stored."""
    key = "crm_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, user=user, prefix=key[4:12], key_hash=_hash(key))
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    return token


def authenticate_token(header: str) -> ApiToken | None:
    """The live token named by an ``Authorization: Bearer <key>`` header, or None."""
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() not in {"bearer", "token"} or not key.strip():
        return None
    live = ApiToken.objects.select_related("user").filter(revoked_at=None)
    token = live.filter(key_hash=_hash(key.strip())).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_error(message: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def token_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Authenticate by bearer token, set ``request.user``, and exempt the view from CSRF (no cookies)."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = authenticate_token(request.headers.get("Authorization", ""))
        if token is None:
            response = api_error(_("Missing, unknown or revoked API token."), 401)
            response["WWW-Authenticate"] = 'Bearer realm="crm"'
            return response
        request.user = token.user
        request.api_token = token  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


MAX_JSON_DEPTH = 32


def reject_json_constant(name: str) -> None:
    """``json.loads(..., parse_constant=...)``: NaN and Infinity are not JSON, and PostgreSQL refuses them."""
    raise ValueError(name)


def json_depth(value: Any, *, limit: int) -> int:
    """How deeply lists and objects nest in ``value``; iterative (any depth is safe), stops past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def json_body(request: HttpRequest, *, max_depth: int = MAX_JSON_DEPTH) -> tuple[Any, JsonResponse | None]:
    """The parsed JSON body, or an error response (400, 413 or 415) saying why it could not be read."""
    if request.content_type != "application/json":
        return None, api_error(_("Send the body as application/json."), 415)
    try:
        raw = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        return None, api_error(
            _("The body is too large (at most %(size)s MB).") % {"size": limit // (1024 * 1024)}, 413
        )
    if not raw.strip():
        return None, api_error(_("The body is empty; send a JSON document."), 400)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, api_error(_("The body is not valid UTF-8 text."), 400)
    try:
        # NaN and Infinity are not JSON, and PostgreSQL refuses to store them.
        body = json.loads(text, parse_constant=reject_json_constant)
    except RecursionError:
        return None, _too_deep(max_depth)
    except json.JSONDecodeError as error:
        return None, api_error(
            _("The body is not valid JSON: %(error)s (line %(line)s, column %(column)s).")
            % {"error": error.msg, "line": error.lineno, "column": error.colno},
            400,
        )
    except ValueError:
        return None, api_error(
            _("The body is not valid JSON: NaN, Infinity and numbers over 4,300 digits are not accepted."),
            400,
        )
    if json_depth(body, limit=max_depth) > max_depth:
        return None, _too_deep(max_depth)
    return body, None


def _too_deep(max_depth: int) -> JsonResponse:
    return api_error(
        _("The body nests lists and objects too deeply (at most %(max)s levels).") % {"max": max_depth}, 400
    )
