"""The login form (with the lockout) and the second-factor forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm_site.security.client_ip import client_ip
from crm_site.security.lockout import locked_message, login_locked


class LoginForm(AuthenticationForm):
    """Django's login form, refused while the username or the client's address is locked out."""

    def _locked(self) -> bool:
        username = self.cleaned_data.get("username") or self.data.get("username") or ""
        return self.request is not None and login_locked(username=str(username), ip=client_ip(self.request))

    def clean(self) -> dict[str, Any]:
        if self._locked():
            raise ValidationError(locked_message(), code="locked")
        try:
            return super().clean()
        except ValidationError:
            # The failure just counted may have been the one that locked: say so now, not next time.
            if self._locked():
                raise ValidationError(locked_message(), code="locked") from None
            raise


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}
        ),
    )


class TwoFactorSetupForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        help_text=_("After adding the key, enter the 6 digits the app shows."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
