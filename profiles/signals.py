"""Reacting to other apps' activity: refresh the customers they touched."""

from __future__ import annotations

from typing import Any

from crm_site.db import on_commit


def schedule_refresh(sender: Any, customer_ids: list[Any] | None = None, **kwargs: Any) -> None:
    """Queue one refresh task for the whole batch of customers (a batch of events is one task)."""
    ids = sorted({str(pk) for pk in customer_ids or []})
    if not ids:
        return
    from profiles.tasks import profile_refresh_customers_task

    on_commit(lambda: profile_refresh_customers_task.delay(ids))
