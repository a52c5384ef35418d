"""The OpenAPI side of the REST API (drf-spectacular): the bearer token scheme, each operation's scope, and
the one error shape every app's operations document (``ERRORS``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from crm_site.rest import required_scope


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for ``ApiTokenAuthentication`` (drf-spectacular finds it by class)."""

    target_class = "crm_site.rest.ApiTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token made by a manager in the admin (API tokens); it carries scopes.",
        }


class CrmAutoSchema(AutoSchema):
    """drf-spectacular's schema, with each operation's required token scope in its description."""

    def get_description(self) -> str:
        description = super().get_description() or ""
        scope = required_scope(self.view, self.method)
        if scope is None:
            return description
        return f"{description}\n\nToken scope: `{scope}`.".strip()


class ErrorSerializer(serializers.Serializer):
    """Every error: a sentence and a code; per field (``errors``) or per batch record (``items``)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    # field -> its messages; a nested object or list (a chat's ``messages``) answers with the same shape
    # one level down: {"messages": {"0": {"text": [...]}}} (issue 13: Schemathesis found the schema said
    # "always a list of strings").
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=gettext_lazy("Field -> list of messages; a nested field -> an object of the same shape."),
    )
    items = serializers.ListField(child=serializers.DictField(), required=False)


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid fields, or records of the batch."),
    401: OpenApiResponse(ErrorSerializer, description="Missing, unknown or revoked token."),
    403: OpenApiResponse(ErrorSerializer, description="The token lacks the scope."),
    413: OpenApiResponse(ErrorSerializer, description="The body or the batch is too large."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests for this token."),
}
