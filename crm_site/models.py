"""The abstract base every project model inherits: a UUID key and created/updated timestamps."""

import uuid
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID primary key (portable to MongoDB, unguessable in URLs) plus timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class ApiToken(BaseModel):
    """A bearer token with which another system (web shop, app) pushes data; only its hash is stored."""

    class Scope(models.TextChoices):
        EVENTS_WRITE = "events:write", _("Send behaviour events")
        CALLS_WRITE = "calls:write", _("Send call records")
        CHATS_WRITE = "chats:write", _("Send chat transcripts")
        INTERACTIONS_READ = "interactions:read", _("Read interactions")
        INTERACTIONS_WRITE = "interactions:write", _("Log interactions")
        CONSENTS_READ = "consents:read", _("Read customers' consents")
        CONSENTS_WRITE = "consents:write", _("Record consents given or withdrawn")

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("acts as user"),
    )
    prefix = models.CharField(_("prefix"), max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # Past this moment the token is refused (401 saying so); empty: it never expires (tokens made before
    # expiry existed). New tokens get API_TOKEN_LIFETIME_DAYS.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # What the token may do: values of Scope, as a list (portable to MongoDB).
    scopes = models.JSONField(_("scopes"), default=list, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def clean(self) -> None:
        known = self.Scope.values
        if not isinstance(self.scopes, list) or any(scope not in known for scope in self.scopes):
            raise ValidationError(
                {"scopes": _("Choose scopes among: %(scopes)s.") % {"scopes": ", ".join(known)}}
            )
        self.scopes = sorted(set(self.scopes))

    def is_expired(self, at: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or timezone.now())

    def has_scope(self, scope: str) -> bool:
        return isinstance(self.scopes, list) and scope in self.scopes


class RetentionRun(BaseModel):
    """One run of the retention purge (crm_site.retention): when, and how many records of each kind."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(_("started"), db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    # {kind: {"days": n, "cutoff": iso, "count": n}}: what each rule purged or anonymised.
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"


# The second factor's models live beside its code (crm_site/security); imported so Django registers them.
from crm_site.audit.models import AuditEntry, AuditLease, AuditSeal  # noqa: E402, F401
from crm_site.security.models import RecoveryCode, TwoFactorDevice  # noqa: E402, F401
