"""The OpenAPI side of the REST API (drf-spectacular): the bearer token scheme, each operation's scope."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

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
