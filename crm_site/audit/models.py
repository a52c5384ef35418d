"""The audit trail's rows: entries (one change, export or reveal each) and the seals that chain them.

An entry is written in the transaction of the change it records and never updated afterwards except
for the one write that links it to its seal. A seal covers a batch of entries (their ids and keyed
digests, in order) and carries the keyed hash of the seal before it, so that editing, deleting or
reordering either kind of row breaks a link that ``manage.py verify_audit`` reports.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditSeal(models.Model):
    """A link of the hash chain: the digests of a batch of entries plus the previous link's hash."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seq = models.BigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("sealed at"))
    # [[entry id, entry digest], ...] in chain order.
    entries = models.JSONField(_("entries"), default=list)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq}"


class AuditEntry(models.Model):
    """One recorded act: a create, change or delete of a record, an import, a merge, an export or a reveal."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        IMPORT = "import", _("imported")
        MERGE = "merge", _("merged")
        EXPORT = "export", _("exported")
        REVEAL = "reveal", _("revealed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(_("when"), db_index=True)
    # The actor is kept as text (their key and username at the time), not a foreign key: deleting or
    # renaming a user must neither rewrite nor lose the rows that say what they did.
    actor_ref = models.CharField(_("actor id"), max_length=64, blank=True, db_index=True)
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    model_label = models.CharField(_("record type"), max_length=100, blank=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    object_repr = models.CharField(_("record"), max_length=200, blank=True)
    # The customer whose data this is (a contact method's, an order's): their History tab lists it.
    customer_ref = models.CharField(_("customer id"), max_length=64, blank=True, db_index=True)
    # {field: [old, new]} for changes; counts and ids for bulk acts; what was exported.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # How it came in: {"via": "web" | "api" | "admin" | "import" | "task", "path": ..., "ip": ...}.
    context = models.JSONField(_("context"), default=dict, blank=True)
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    seal = models.ForeignKey(
        AuditSeal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("seal"),
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["model_label", "object_id", "at"], name="audit_object_at"),
            models.Index(fields=["customer_ref", "at"], name="audit_customer_at"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label or '—'} {self.action} {self.object_repr or self.model_label}"


class AuditLease(models.Model):
    """The one row whose lease lets a single process at a time seal pending entries (every backend)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=20, unique=True)
    until = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=36, blank=True)

    class Meta:
        verbose_name = _("audit sealing lease")
        verbose_name_plural = _("audit sealing leases")

    def __str__(self) -> str:
        return self.name
