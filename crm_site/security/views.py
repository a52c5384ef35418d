"""Login and the second-factor pages: verify, enrol, recovery codes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from crm_site.security import two_factor
from crm_site.security.client_ip import client_ip
from crm_site.security.forms import LoginForm, TwoFactorCodeForm, TwoFactorSetupForm
from crm_site.security.lockout import locked_message, login_failure_record, login_locked
from crm_site.security.models import TwoFactorDevice
from crm_site.web import form_add_errors, safe_next


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        url = super().get_success_url()
        if two_factor.session_state(self.request) == two_factor.PENDING:
            return _with_next("two-factor-verify", url)
        return url


class TwoFactorVerifyView(LoginRequiredMixin, FormView):
    """Step two of a login: a TOTP code or a recovery code."""

    template_name = "registration/two_factor_verify.html"
    form_class = TwoFactorCodeForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if two_factor.session_state(request) != two_factor.PENDING:
            return redirect(self.next_url())
        device = TwoFactorDevice.objects.filter(user=request.user).first()
        if device is None:
            return redirect(_with_next("two-factor-setup", self.next_url()))
        self.device: TwoFactorDevice = device
        return super().dispatch(request, *args, **kwargs)

    def next_url(self) -> str:
        return safe_next(self.request, reverse("dashboard"))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(next=self.next_url(), **kwargs)

    def form_valid(self, form: TwoFactorCodeForm) -> HttpResponse:
        request, user = self.request, self.request.user
        ip = client_ip(request)
        if login_locked(username=user.get_username(), ip=ip):
            form.add_error(None, locked_message())
            return self.form_invalid(form)
        code = form.cleaned_data["code"]
        try:
            by_totp = two_factor.totp_verify(device=self.device, code=code)
        except ValidationError as error:
            form_add_errors(form, error)
            return self.form_invalid(form)
        by_recovery = not by_totp and two_factor.recovery_code_use(device=self.device, code=code)
        if not (by_totp or by_recovery):
            if login_failure_record(username=user.get_username(), ip=ip):
                form.add_error(None, locked_message())
            else:
                form.add_error("code", _("That code is not valid. Try the code your app shows now."))
            return self.form_invalid(form)
        two_factor.session_verified(request)
        if by_recovery:
            left = two_factor.recovery_codes_remaining(self.device)
            messages.warning(
                request,
                _("You logged in with a recovery code; %(left)d are left. Make new ones before they run out.")
                % {"left": left},
            )
        return redirect(self.next_url())


class TwoFactorSetupView(LoginRequiredMixin, FormView):
    """Enrolment: a new secret as a QR code and as text; a code from the app confirms it."""

    template_name = "registration/two_factor_setup.html"
    form_class = TwoFactorSetupForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if TwoFactorDevice.objects.filter(user=request.user).exists():
            # Enrolled already: a new device only after a manager resets this one.
            messages.info(request, _("A second factor is already set up for this account."))
            return redirect(_with_next("two-factor-verify", self.next_url()))
        return super().dispatch(request, *args, **kwargs)

    def next_url(self) -> str:
        return safe_next(self.request, reverse("dashboard"))

    def secret(self) -> str:
        secret = self.request.session.get(two_factor.SETUP_SECRET_KEY)
        if not secret:
            secret = two_factor.new_secret()
            self.request.session[two_factor.SETUP_SECRET_KEY] = secret
        return str(secret)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        secret = self.secret()
        uri = two_factor.provisioning_uri(user=self.request.user, secret=secret)
        key_groups = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        return super().get_context_data(
            secret=key_groups,
            qr_svg=two_factor.qr_svg(uri),
            next=self.next_url(),
            required=two_factor.session_state(self.request) == two_factor.PENDING,
            **kwargs,
        )

    def form_valid(self, form: TwoFactorSetupForm) -> HttpResponse:
        request = self.request
        try:
            _device, codes = two_factor.device_confirm(
                user=request.user, secret=self.secret(), code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form_add_errors(form, error)
            return self.form_invalid(form)
        two_factor.session_verified(request)
        request.session[two_factor.FRESH_CODES_KEY] = codes
        messages.success(request, _("Second factor set up."))
        return redirect(_with_next("two-factor-recovery-codes", self.next_url()))


class RecoveryCodesView(LoginRequiredMixin, TemplateView):
    """The recovery codes just made (shown once), how many are left, and a button for new ones."""

    template_name = "registration/two_factor_recovery_codes.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        device = TwoFactorDevice.objects.filter(user=request.user).first()
        if device is None:
            return redirect(_with_next("two-factor-setup", safe_next(request, reverse("dashboard"))))
        self.device: TwoFactorDevice = device
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            fresh_codes=self.request.session.pop(two_factor.FRESH_CODES_KEY, None),
            remaining=two_factor.recovery_codes_remaining(self.device),
            next=safe_next(self.request, reverse("dashboard")),
            **kwargs,
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.session[two_factor.FRESH_CODES_KEY] = two_factor.recovery_codes_regenerate(device=self.device)
        messages.success(request, _("New recovery codes made; the old ones no longer work."))
        return redirect(_with_next("two-factor-recovery-codes", safe_next(request, reverse("dashboard"))))
