"""Reading the audit trail for a History tab: the entries of one record a user may see."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import QuerySet

from crm_site.audit.models import AuditEntry
from crm_site.visibility import visible_object_or_404

# URL kind -> (model label, how its entries are found). A customer's history holds everything recorded
# about its data (its contact methods, addresses, orders...); an order's or ticket's, its own rows.
HISTORY_KINDS: dict[str, tuple[str, str]] = {
    "customer": ("customers.Customer", "customer"),
    "sales-order": ("orders.SalesOrder", "object"),
    "ticket": ("orders.ServiceOrder", "object"),
}


def history_subject_or_404(*, user: Any, kind: str, pk: Any) -> Any:
    """The record whose history is asked for, if ``user`` may see it (the visibility rule), else 404."""
    from django.http import Http404

    if kind not in HISTORY_KINDS:
        raise Http404
    model = apps.get_model(HISTORY_KINDS[kind][0])
    return visible_object_or_404(model._default_manager.all(), user, pk=pk)


def history_entries(*, kind: str, subject: Any) -> QuerySet[AuditEntry]:
    """The audit entries of a record the caller already checked (``history_subject_or_404``)."""
    label, how = HISTORY_KINDS[kind]
    if how == "customer":
        return AuditEntry.objects.filter(customer_ref=str(subject.pk))
    return AuditEntry.objects.filter(model_label=label, object_id=str(subject.pk))
