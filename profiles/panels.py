"""Context for the blocks this app adds to other pages (customer detail card, dashboard card)."""

from __future__ import annotations

from typing import Any

from crm_site.visibility import sees_everything
from profiles import selectors


def customer_profile_card(*, customer: Any, user: Any, **kwargs: Any) -> dict[str, Any]:
    """The customer's portrait from the active run (two queries whatever the data size)."""
    run = selectors.active_run()
    profile = selectors.customer_profile_for_card(user=user, customer=customer, run=run)
    return {"profile": profile, "run": run, "customer": customer}


def dashboard_card(*, user: Any, **kwargs: Any) -> dict[str, Any]:
    run = selectors.active_run()
    return {"run": run, "can_rebuild": sees_everything(user)}
