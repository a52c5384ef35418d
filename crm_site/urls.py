"""Root URL configuration. Each module mounts its own ``urls.py`` under its prefix."""

from importlib.util import find_spec

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm_site.audit.views import HistoryView
from crm_site.security.views import LoginView
from crm_site.views import DashboardView, GlobalSearchView, favicon, healthz

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("healthz", healthz, name="healthz"),
    # Browsers and bookmark tools ask for /favicon.ico whatever the page links; the icon is a static SVG.
    path("favicon.ico", favicon, name="favicon"),
    path("search/", GlobalSearchView.as_view(), name="global-search"),
    path("history/<str:kind>/<uuid:pk>/", HistoryView.as_view(), name="audit-history"),
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/two-factor/", include("crm_site.security.urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
]

# A module joins the site by shipping urls.py (app_name = its label, an "index" page).
MODULE_PREFIXES = {
    "customers": "customers/",
    "sessions_log": "interactions/",
    "orders": "orders/",
    "profiles": "profiles/",
    "marketing": "marketing/",
    "knowledge": "knowledge/",
}
for _app in settings.PROJECT_APPS:
    if find_spec(f"{_app}.urls") is not None:
        urlpatterns.append(path(MODULE_PREFIXES[_app], include(f"{_app}.urls")))
    if find_spec(f"{_app}.api_urls") is not None:
        urlpatterns.append(path("api/", include(f"{_app}.api_urls")))
    # The REST API (crm_site/rest.py): a module's endpoints in its api_v1_urls, one schema for all.
    if find_spec(f"{_app}.api_v1_urls") is not None:
        urlpatterns.append(path("api/v1/", include(f"{_app}.api_v1_urls")))

urlpatterns += [
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-v1-schema"),
    # Staff open the docs page logged in (its script and the schema come with their session).
    path(
        "api/v1/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-v1-schema")),
        name="api-v1-docs",
    ),
]
