"""The one writer of the status history (``orders.models.StatusChange``), called by the workflow services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from orders.models import SalesOrder, ServiceOrder, StatusChange


def status_change_record(
    *, obj: SalesOrder | ServiceOrder, from_status: str, to_status: str, by: Any = None
) -> StatusChange:
    """Record that ``by`` (a user, or None for the system: an import, a schedule) moved ``obj``."""
    change = StatusChange(
        sales_order=obj if isinstance(obj, SalesOrder) else None,
        service_order=obj if isinstance(obj, ServiceOrder) else None,
        from_status=from_status,
        to_status=to_status,
        changed_by=by if by is not None and by.is_authenticated else None,
        changed_at=timezone.now(),
    )
    change.save()
    return change
