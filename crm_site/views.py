"""Project-level pages: the dashboard, the global search and the health probe."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from crm_site.forms import GlobalSearchForm
from crm_site.health import broker_status, database_status
from crm_site.registry import dashboard_cards, search_sources

# Hits shown per kind; each kind's "more" link opens its own list filtered by the query.
SEARCH_HITS_PER_KIND = 5


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


class GlobalSearchView(LoginRequiredMixin, TemplateView):
    """The navbar search: every kind of record the user may see, grouped by kind (``search_sources``)."""

    template_name = "search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = GlobalSearchForm(self.request.GET if "q" in self.request.GET else None)
        query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
        context["form"] = form
        context["query"] = query
        context["groups"] = (
            search_sources.search(user=self.request.user, query=query, limit=SEARCH_HITS_PER_KIND)
            if query
            else []
        )
        context["notices"] = search_sources.notices(user=self.request.user, query=query) if query else []
        context["kinds"] = search_sources.sources(self.request.user)
        return context
