"""Tell the rest of the project, after commit, that some customers' purchase history changed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from crm_site.db import on_commit
from crm_site.signals import customer_activity

logger = logging.getLogger(__name__)


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
