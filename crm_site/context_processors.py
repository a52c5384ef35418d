"""Template context shared by every page."""

from typing import Any

from django.http import HttpRequest

from crm_site.navigation import module_links
from crm_site.visibility import sees_everything


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    resolver = getattr(request, "resolver_match", None)
    return {
        "nav_modules": module_links(user),
        "nav_current_app": resolver.app_name if resolver else "",
        "nav_is_manager": sees_everything(user),
    }
