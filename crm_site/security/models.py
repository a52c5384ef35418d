"""A user's TOTP device and its one-time recovery codes (UUID keys: portable to MongoDB)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel


class TwoFactorDevice(BaseModel):
    """A confirmed TOTP authenticator of one user; the secret is stored encrypted, never shown again."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="two_factor_device",
        verbose_name=_("user"),
    )
    secret_encrypted = models.TextField(_("encrypted secret"), editable=False)
    # The last TOTP time step accepted: a code is good once (no replay within its 30 s window).
    last_step = models.BigIntegerField(_("last time step used"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("second factor (TOTP)")
        verbose_name_plural = _("second factors (TOTP)")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.user)


class RecoveryCode(BaseModel):
    """A one-time recovery code of a device, stored as a keyed hash; used once, then spent."""

    device = models.ForeignKey(
        TwoFactorDevice, on_delete=models.CASCADE, related_name="recovery_codes", verbose_name=_("device")
    )
    code_hash = models.CharField(_("code hash"), max_length=64, db_index=True, editable=False)
    used_at = models.DateTimeField(_("used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
