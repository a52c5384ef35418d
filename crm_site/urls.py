"""Root URL configuration. Each module mounts its own ``urls.py`` under its prefix."""

from importlib.util import find_spec

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm_site.views import DashboardView, GlobalSearchView, favicon, healthz

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("healthz", healthz, name="healthz"),
    # Browsers and bookmark tools ask for /favicon.ico whatever the page links; the icon is a static SVG.
    path("favicon.ico", favicon, name="favicon"),
    path("search/", GlobalSearchView.as_view(), name="global-search"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
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
