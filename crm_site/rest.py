"""The REST API's plumbing under /api/v1/ (Django REST framework): the one way every endpoint does it.

- ``ApiTokenAuthentication``: the existing bearer tokens (``crm_site.api.authenticate_token``);
  ``request.user`` is the token's user, ``request.auth`` the ``ApiToken``.
- ``TokenScopePermission``: a view names the scope each method needs (``required_scopes``).
- ``TokenRateThrottle``: requests per token (``API_TOKEN_THROTTLE_RATE``), in the shared cache.
- ``CrmJSONParser``: the JSON rules of every API (UTF-8, no NaN, nesting and size limits).
- ``api_exception_handler``: one error shape, ``{"detail", "code"}`` plus ``errors`` (field -> messages)
  for one invalid object, or ``items`` (``[{"index", "errors"}]``) for the invalid records of a batch.
- ``batch_or_one``: a body that is one object or a list of them (or ``{"<name>": [...]}``).

The schema side (the bearer scheme, each operation's scope) is in ``crm_site.rest_schema``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from crm_site.api import (
    ApiTokenExpired,
    JsonBodyError,
    authenticate_token,
    body_too_large,
    json_parse,
    missing_scope_message,
)
from crm_site.models import ApiToken


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>`` with a live ``ApiToken``; no header is anonymous (then 401)."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        try:
            token = authenticate_token(header)
        except ApiTokenExpired as expired:
            raise exceptions.AuthenticationFailed(expired.message, code="token_expired") from expired
        if token is None:
            raise exceptions.AuthenticationFailed(_("Missing, unknown or revoked API token."))
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="crm"'


def required_scope(view: Any, method: str) -> str | None:
    """The scope ``view`` needs for ``method``: ``view.required_scopes`` maps methods to scopes."""
    return getattr(view, "required_scopes", {}).get(method.upper())


class TokenScopePermission(BasePermission):
    """Allowed when the request came with a token holding the scope the view names for its method."""

    def has_permission(self, request: Any, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(_("Send an API token: Authorization: Bearer <key>."))
        scope = required_scope(view, request.method)
        if scope is None or token.has_scope(scope):
            return True
        self.message = missing_scope_message(scope)
        return False


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per API token (not per address: several systems may share one gateway).

    The rate is ``settings.API_TOKEN_THROTTLE_RATE`` (``"<n>/<second|minute|hour|day>"``, from the
    environment variable of that name), read per request so a test or a deployment may change it. The
    counts live in the default cache: Redis when configured, shared by every web process; with the
    in-process cache each process counts on its own.
    """

    scope = "api_token"

    def get_rate(self) -> str | None:
        return getattr(settings, "API_TOKEN_THROTTLE_RATE", None) or None

    def allow_request(self, request: Any, view: Any) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The body is too large.")
    default_code = "too_large"


class CrmJSONParser(BaseParser):
    """application/json read by ``crm_site.api.json_parse``, at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit else stream.read()
        if limit and len(raw) > limit:
            raise PayloadTooLarge(body_too_large().message)
        try:
            return json_parse(raw)
        except JsonBodyError as error:
            if error.status == 413:
                raise PayloadTooLarge(error.message) from error
            raise exceptions.ParseError(error.message) from error


class BatchValidationError(exceptions.ValidationError):
    """Some records of a batch are invalid (nothing was stored): each one's index and field errors."""

    def __init__(self, items: list[dict[str, Any]], total: int) -> None:
        super().__init__(detail={"items": items})
        self.items = items
        self.total = total


def batch_errors(errors: Any) -> list[dict[str, Any]]:
    """A ``many=True`` serializer's errors (a dict index -> errors in DRF 3.18; a list with an empty dict
    per valid record before) as ``[{"index", "errors"}]``, in index order."""
    pairs = errors.items() if isinstance(errors, dict) else enumerate(errors)
    return [
        {"index": int(index), "errors": found}
        for index, found in sorted(pairs, key=lambda p: int(p[0]))
        if found
    ]


def _messages(detail: Any) -> Any:
    """DRF's ErrorDetail tree as plain JSON (strings, lists, dicts)."""
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_messages(value) for value in detail]
    if isinstance(detail, int):
        return detail  # a batch record's index
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as ``{"detail": <sentence>, "code": <code>, ...}``; see the module docstring."""
    # Imported here: rest_framework.views reads the settings that name this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        # A service's own check (full_clean, a rule): the same per-field shape as the serializers'.
        exc = exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, BatchValidationError):
        response.data = {
            "detail": _("%(bad)s of %(total)s records are invalid; nothing was stored.")
            % {"bad": len(exc.items), "total": exc.total},
            "code": "invalid",
            "items": _messages(exc.items),
        }
    elif isinstance(exc, exceptions.ValidationError):
        errors = _messages(exc.detail)
        if not isinstance(errors, dict):
            errors = {settings.REST_FRAMEWORK["NON_FIELD_ERRORS_KEY"]: errors}
        response.data = {"detail": _("Some fields are invalid."), "code": "invalid", "errors": errors}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code}
    return response


def batch_or_one(data: Any, *, key: str, max_items: int) -> tuple[list[Any], bool]:
    """(records, was it a batch) from a body that is one object, a list, or ``{key: [...]}``.

    A list longer than ``max_items`` or empty, or a body that is neither, is a 400 saying so.
    """
    if isinstance(data, dict) and isinstance(data.get(key), list) and len(data) == 1:
        data = data[key]
    if isinstance(data, dict):
        return [data], False
    if not isinstance(data, list):
        raise exceptions.ParseError(
            _("Send one JSON object, a list of them or an object with a “%(key)s” list.") % {"key": key}
        )
    if not data:
        raise exceptions.ParseError(_("The batch is empty."))
    if len(data) > max_items:
        raise PayloadTooLarge(
            _("A batch holds at most %(max)s records; this one has %(n)s.")
            % {"max": max_items, "n": len(data)}
        )
    return data, True
