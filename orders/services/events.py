"""Tell the rest of the project, after commit, that some customers' purchase history changed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crm_site.db import on_commit
from crm_site.signals import customer_activity


def customers_touched(*, sender: type, customer_ids: Iterable[Any]) -> None:
    """Send ``customer_activity`` once the transaction commits (profiles refresh those customers)."""
    ids = sorted({str(pk) for pk in customer_ids})
    if ids:
        on_commit(lambda: customer_activity.send(sender=sender, customer_ids=ids))
