"""Template context shared by every page."""

from typing import Any

from django.http import HttpRequest

from crm_site.navigation import mark_current, module_links
from crm_site.visibility import sees_everything


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    resolver = getattr(request, "resolver_match", None)
    app = resolver.app_name if resolver else ""
    return {
        "nav_modules": mark_current(
            module_links(user), app=app, view_name=resolver.view_name if resolver else ""
        ),
        "nav_current_app": app,
        "nav_is_manager": sees_everything(user),
    }
