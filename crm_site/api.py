"""Bearer-token authentication for the JSON APIs other systems call."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
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


# What a token made without naming its scopes may do: what every token could before scopes existed.
DEFAULT_SCOPES: tuple[str, ...] = (ApiToken.Scope.EVENTS_WRITE,)


def default_token_expiry() -> datetime | None:
    """When a token made now expires: ``API_TOKEN_LIFETIME_DAYS`` from now; 0 or less: never."""
    days = getattr(settings, "API_TOKEN_LIFETIME_DAYS", 0)
    return timezone.now() + timedelta(days=days) if days > 0 else None


# "Not given" for ``expires_at`` (None means "never expires").
_DEFAULT_EXPIRY: Any = object()


def api_token_create(
    *,
    name: str,
    user: Any,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    expires_at: datetime | None = _DEFAULT_EXPIRY,
) -> tuple[ApiToken, str]:
    """A token allowed ``scopes`` (``ApiToken.Scope``) until ``expires_at`` (default: the lifetime
    setting from now; None: never); its plain key is returned once, never stored."""
    key = "crm_" + secrets.token_urlsafe(32)
    if expires_at is _DEFAULT_EXPIRY:
        expires_at = default_token_expiry()
    token = ApiToken(
        name=name,
        user=user,
        prefix=key[4:12],
        key_hash=_hash(key),
        scopes=list(scopes),
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    return token


class ApiTokenExpired(Exception):
    """The header names a token past its ``expires_at``; the message says when and what to do."""

    def __init__(self, token: ApiToken) -> None:
        expired = timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M %Z")
        super().__init__(
            _("This API token expired on %(date)s; ask a manager for a new one.") % {"date": expired}
        )
        self.message = str(self.args[0])


def authenticate_token(header: str) -> ApiToken | None:
    """The live token named by an ``Authorization: Bearer <key>`` header, or None.

    Raises ``ApiTokenExpired`` for a known, unrevoked token past its expiry (a 401 that says so).
    """
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() not in {"bearer", "token"} or not key.strip():
        return None
    live = ApiToken.objects.select_related("user").filter(revoked_at=None)
    token = live.filter(key_hash=_hash(key.strip())).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.is_expired(now):
        raise ApiTokenExpired(token)
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_error(message: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def missing_scope_message(scope: str) -> str:
    return _("This API token may not do this: it lacks the scope “%(scope)s”.") % {"scope": scope}


def _unauthorised(message: str, **extra: Any) -> JsonResponse:
    response = api_error(message, 401, **extra)
    response["WWW-Authenticate"] = 'Bearer realm="crm"'
    return response


def token_throttle_wait(token: ApiToken) -> float | None:
    """None when ``token`` may make one more request now (and counts it), else the seconds to wait.

    The count is ``crm_site.rest.TokenRateThrottle``'s, so the pre-v1 paths and /api/v1/ share one
    limit per token.
    """
    from types import SimpleNamespace

    from crm_site.rest import TokenRateThrottle  # crm_site.rest imports this module

    throttle = TokenRateThrottle()
    if throttle.allow_request(SimpleNamespace(auth=token), None):
        return None
    return throttle.wait() or 1.0


def token_required(*, scope: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Authenticate by a bearer token holding ``scope``, set ``request.user``, and exempt the view from
    CSRF (no cookies). The plain-Django counterpart of ``crm_site.rest`` for the pre-v1 paths."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                token = authenticate_token(request.headers.get("Authorization", ""))
            except ApiTokenExpired as expired:
                return _unauthorised(expired.message, code="token_expired")
            if token is None:
                return _unauthorised(_("Missing, unknown or revoked API token."))
            if not token.has_scope(scope):
                return api_error(missing_scope_message(scope), 403)
            wait = token_throttle_wait(token)
            if wait is not None:
                response = api_error(_("Too many requests for this token; retry later."), 429)
                response["Retry-After"] = str(max(1, math.ceil(wait)))
                return response
            request.user = token.user
            request.api_token = token  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


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


class JsonBodyError(ValueError):
    """Why a request body could not be read as JSON, with the HTTP status that says so (400 or 413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def body_too_large() -> JsonBodyError:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return JsonBodyError(
        _("The body is too large (at most %(size)s MB).") % {"size": limit // (1024 * 1024)}, 413
    )


def json_parse(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in ``raw``; ``JsonBodyError`` says why there is none (one rule for every API)."""
    if not raw.strip():
        raise JsonBodyError(_("The body is empty; send a JSON document."))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonBodyError(_("The body is not valid UTF-8 text.")) from None
    try:
        # NaN and Infinity are not JSON, and PostgreSQL refuses to store them.
        body = json.loads(text, parse_constant=reject_json_constant)
    except RecursionError:
        raise _too_deep(max_depth) from None
    except json.JSONDecodeError as error:
        raise JsonBodyError(
            _("The body is not valid JSON: %(error)s (line %(line)s, column %(column)s).")
            % {"error": error.msg, "line": error.lineno, "column": error.colno}
        ) from None
    except ValueError:
        raise JsonBodyError(
            _("The body is not valid JSON: NaN, Infinity and numbers over 4,300 digits are not accepted.")
        ) from None
    if json_depth(body, limit=max_depth) > max_depth:
        raise _too_deep(max_depth)
    return body


def json_body(request: HttpRequest, *, max_depth: int = MAX_JSON_DEPTH) -> tuple[Any, JsonResponse | None]:
    """The parsed JSON body, or an error response (400, 413 or 415) saying why it could not be read."""
    if request.content_type != "application/json":
        return None, api_error(_("Send the body as application/json."), 415)
    try:
        return json_parse(request.body, max_depth=max_depth), None
    except RequestDataTooBig:
        error = body_too_large()
    except JsonBodyError as problem:
        error = problem
    return None, api_error(error.message, error.status)


def _too_deep(max_depth: int) -> JsonBodyError:
    return JsonBodyError(
        _("The body nests lists and objects too deeply (at most %(max)s levels).") % {"max": max_depth}
    )
