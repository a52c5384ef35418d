"""Web plumbing shared by every app: the POST-then-redirect action view and safe ``next`` redirects.

An action is a button on a page (change a status, remove a line, stop sharing, move a card): the view
loads its object through a selector (404 for what the user may not see), optionally validates a small
form, calls one service, flashes the outcome and redirects back. Write one by subclassing ``ActionView``::

    class MilestoneCreateView(StaffMixin, ActionView):        # orders/views/projects.py
        permission_required = "orders.change_project"
        form_class = MilestoneForm                              # invalid: its errors are flashed

        def get_target(self) -> Project:
            return project_get(user=self.request.user, pk=self.kwargs["pk"])

        def perform(self, target: Project, data: dict[str, Any]) -> StrOrPromise:
            services.milestone_create(project=target, **data)  # a ValidationError is flashed
            return _("Milestone added.")

It redirects to ``get_success_url(target)`` (default: the target's page) or to a local ``next``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class StaffMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Logged-in staff holding the model permission (403 without it, the login page when logged out);
    the object scoping lives in the selectors."""

    # Set by View.setup(); the auth mixins do not declare it.
    request: HttpRequest
    raise_exception = False

    def handle_no_permission(self) -> HttpResponseRedirect:
        if self.request.user.is_authenticated:
            if wants_json(self.request):
                return refusal_json(missing=False)  # type: ignore[return-value]  # a JSON 403, not a redirect
            raise PermissionDenied
        return super().handle_no_permission()


def refusal_json(*, missing: bool) -> JsonResponse:
    """A page script's answer for a refusal: the same neutral words whatever the reason."""
    text = _("Not found.") if missing else _("You do not have permission to do this.")
    return JsonResponse({"ok": False, "message": str(text), "errors": {}}, status=404 if missing else 403)


def safe_next(request: HttpRequest, default: str, *, field: str = "next") -> str:
    """The local page named by the request's ``next`` (POST, then GET), else ``default``.

    Only a URL on this site's own host (and, behind HTTPS, an https one) is followed: an off-site or
    scheme-relative ``next`` ("//evil.example", "/\\evil.example") falls back to ``default``.
    """
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def form_errors_text(form: forms.BaseForm) -> str:
    """A form's errors as one flash message: "Label message; message" (field label first when it has one)."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label) if field is not None and field.label else ""
        parts.append(f"{label} {' '.join(str(error) for error in errors)}".strip())
    return "; ".join(parts)


def form_add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, on the named field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            for message in field_messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def error_text(error: ValidationError) -> str:
    """A service's ValidationError as one flash message."""
    return " ".join(str(message) for message in error.messages)


class ActionView(View):
    """POST only: load the target, validate ``form_class`` (if any), run ``perform``, flash, redirect.

    ``perform(target, data)`` calls one service and returns the success message (or None); a
    ValidationError it raises becomes an error message (put on the form first, so a field's error is
    labelled). An invalid form never reaches ``perform``.
    The redirect goes to a safe local ``next`` when the request names one, else ``get_success_url``.
    Answers GET with 405 (an action changes data; a link must not).
    """

    http_method_names = ["post"]
    form_class: type[forms.BaseForm] | None = None
    request: HttpRequest

    def get_target(self) -> Any:
        """The object acted on, through a selector (raise Http404 for what the user may not see)."""
        raise NotImplementedError

    def perform(self, target: Any, data: dict[str, Any]) -> StrOrPromise | None:
        raise NotImplementedError

    def get_form(self, target: Any) -> forms.BaseForm | None:
        """The bound form (``form_class`` on the POST data); override to pass the form arguments."""
        return self.form_class(self.request.POST) if self.form_class is not None else None

    def get_success_url(self, target: Any) -> str:
        return target.get_absolute_url()

    def json_extra(self, target: Any) -> dict[str, Any]:
        """More keys of the JSON answer (``wants_json``), e.g. the fragment a script swaps in."""
        return {}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """A script asking for JSON gets JSON for a refusal too (404, 403), with the same neutral text."""
        try:
            return super().dispatch(request, *args, **kwargs)
        except (Http404, PermissionDenied) as refusal:
            if not wants_json(request):
                raise
            missing = isinstance(refusal, Http404)
            text = _("Not found.") if missing else _("You do not have permission to do this.")
            return JsonResponse(
                {"ok": False, "message": str(text), "errors": {}}, status=404 if missing else 403
            )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        target = self.get_target()
        data: dict[str, Any] = {}
        form = self.get_form(target)
        ok, text = False, ""
        if form is not None and not form.is_valid():
            text = form_errors_text(form)
        else:
            data = dict(form.cleaned_data) if form is not None else {}
            try:
                message = self.perform(target, data)
            except ValidationError as error:
                if form is not None:
                    form_add_errors(form, error)
                    text = form_errors_text(form)
                else:
                    text = error_text(error)
            else:
                ok, text = True, str(message or "")
        if wants_json(request):
            # A script sent the form (it updates the page in place); the same checks, no redirect.
            errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()} if form else {}
            answer = {"ok": ok, "message": text, "errors": errors}
            if ok:
                answer |= self.json_extra(target)
            return JsonResponse(answer, status=200 if ok else 400)
        if text:
            (messages.success if ok else messages.error)(request, text)
        return HttpResponseRedirect(safe_next(request, self.get_success_url(target)))


def wants_json(request: HttpRequest) -> bool:
    """Whether the request came from a page script asking for JSON (``Accept: application/json``)."""
    return request.headers.get("Accept", "").split(",")[0].strip() == "application/json"
