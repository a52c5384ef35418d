"""Retention of data-subject request archives (crm_site.retention).

``dsr_archives``: the zip made for an access or portability request holds everything the CRM keeps about
the customer. Once the request is completed (or refused) the customer has had their copy, so keeping a
second one only adds a store of personal data to protect: ``CRM_RETENTION_DAYS["dsr_archives"]`` days after
``completed_at`` (default 30, time enough to resend it) the file is deleted from storage and the field
emptied. The request itself, its dates and its outcome counts stay (the proof that it was answered).

One batch: one SELECT of ids and names, one UPDATE of exactly those rows; the files go once it commits.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from crm_site.db import on_commit
from crm_site.retention import RetentionRule, retention_rules
from customers.models import DataSubjectRequest

DONE = (DataSubjectRequest.Status.COMPLETED, DataSubjectRequest.Status.REFUSED)


def dsr_archives_purge(*, cutoff: datetime, batch_size: int) -> int:
    """Delete the archive files of at most ``batch_size`` requests completed or refused before ``cutoff``."""
    rows = list(
        DataSubjectRequest.objects.filter(status__in=DONE, completed_at__lt=cutoff)
        .exclude(archive="")
        .order_by("pk")
        .values_list("pk", "archive")[:batch_size]
    )
    if not rows:
        return 0
    changed = DataSubjectRequest.objects.filter(pk__in=[pk for pk, _name in rows]).update(archive="")
    storage = DataSubjectRequest._meta.get_field("archive").storage
    names = [name for _pk, name in rows if name]

    def delete_files() -> None:
        for name in names:
            storage.delete(name)

    # After commit: a rolled-back batch keeps both the field and the file.
    on_commit(delete_files)
    return changed


retention_rules.register(
    RetentionRule(
        key="dsr_archives",
        label=_("Data-subject request archives"),
        purge=dsr_archives_purge,
        action=_("file deleted"),
    )
)
