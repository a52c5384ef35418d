"""Project-level pages: the dashboard and the health probe."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from crm_site.health import broker_status, database_status
from crm_site.registry import dashboard_cards


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cards"] = dashboard_cards.render_contexts(user=self.request.user)
        return context


@never_cache
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever a page links: the static SVG icon.

    Resolved per request, not at import, so the hashed name comes from the manifest collectstatic wrote.
    """
    return redirect(static("favicon.svg"), permanent=True)


def healthz(request: HttpRequest) -> JsonResponse:
    """200 with each part's state when healthy, 503 naming the failing part otherwise."""
    checks = {"database": database_status(), "broker": broker_status()}
    body: dict[str, object] = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}
    failing = [name for name, (ok, _detail) in checks.items() if not ok]
    body["status"] = "ok" if not failing else "failing: " + ", ".join(failing)
    return JsonResponse(body, status=200 if not failing else 503)


@login_required
def global_search(request: HttpRequest) -> HttpResponse:
    """The navbar search box: hands the query to the customers list."""
    query = request.GET.get("q", "").strip()
    try:
        target = reverse("customers:index")
    except NoReverseMatch:
        messages.info(request, _("Customer search is not available yet."))
        return redirect("dashboard")
    return redirect(f"{target}?{urlencode({'q': query})}" if query else target)
