"""Project-wide signals that let lower apps announce things higher apps react to.

``customer_activity``: something happened that changes what we know of some customers (an order saved,
an event ingested, an interaction logged). Sent after commit with ``customer_ids=[...]``; the profiles
app refreshes them. Send it through ``customers_touched``, never directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal

from crm_site.db import on_commit

logger = logging.getLogger(__name__)

customer_activity = Signal()


def customers_touched(*, sender: type, customer_ids: Iterable[Any]) -> None:
    """Send ``customer_activity`` once the transaction commits (profiles refresh those customers).

    The data is committed by the time receivers run, so a failing receiver (a refresh that raises, a broker
    that is down) is logged and never turns the caller's saved request into a 500.
    """
    ids = sorted({str(pk) for pk in customer_ids})
    if not ids:
        return

    def announce() -> None:
        for receiver, outcome in customer_activity.send_robust(sender=sender, customer_ids=ids):
            if isinstance(outcome, Exception):
                logger.error("customer_activity receiver %r failed", receiver, exc_info=outcome)

    on_commit(announce)
