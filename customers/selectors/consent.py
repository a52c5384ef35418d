"""Reads of the consent ledger: one customer's answers and history, and set-based reads for targeting.

``consenting_customer_filter(purpose)`` is what marketing targeting and the profile rebuild use: a ``Q``
on ``Customer`` built on ``ConsentState``'s (purpose, granted, customer) index, one subquery whatever the
number of customers. Opt-in purposes keep customers with a granted state; profiling keeps everyone but
the customers who refused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from crm_site.db import is_mongodb
from customers.models import ConsentPurpose, ConsentRecord, ConsentState, Customer
from customers.services.consent import consent_default


@dataclass(frozen=True)
class CurrentConsent:
    """One purpose's current answer for a customer (``state`` None: never asked, the default applies)."""

    purpose: str
    label: Any
    granted: bool
    state: ConsentState | None

    @property
    def is_default(self) -> bool:
        return self.state is None

    @property
    def record(self) -> ConsentRecord | None:
        return self.state.record if self.state is not None else None


def customer_consents(*, customer: Customer) -> list[CurrentConsent]:
    """Every purpose with the customer's current answer or the default (one query)."""
    states = {
        state.purpose: state
        for state in ConsentState.objects.filter(customer=customer).select_related(
            "record", "record__recorded_by"
        )
    }
    result = []
    for purpose, label in ConsentPurpose.choices:
        state = states.get(purpose)
        granted = state.granted if state is not None else consent_default(purpose)
        result.append(CurrentConsent(purpose=purpose, label=label, granted=granted, state=state))
    return result


def consent_history(*, customer: Customer) -> QuerySet[ConsentRecord]:
    """Every record of the customer's ledger, newest first."""
    return (
        ConsentRecord.objects.filter(customer=customer)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-created_at")
    )


def customer_ids_refusing(purpose: str) -> QuerySet[ConsentState, Any]:
    """Ids of the customers whose current answer for ``purpose`` is no (a lazy subquery)."""
    return ConsentState.objects.filter(purpose=purpose, granted=False).values("customer_id")


def customer_ids_consenting(purpose: str) -> QuerySet[ConsentState, Any]:
    """Ids of the customers whose current answer for ``purpose`` is yes (a lazy subquery)."""
    return ConsentState.objects.filter(purpose=purpose, granted=True).values("customer_id")


def consenting_customer_filter(purpose: str, *, prefix: str = "") -> Q:
    """A ``Q`` keeping the customers who may be processed for ``purpose`` (their answer or the default).

    ``prefix`` names the path to the customer from another model, e.g. ``"customer__"`` gives
    ``Q(customer__pk__in=...)``: ``CustomerProfile.objects.filter(consenting_customer_filter(
    ConsentPurpose.PROFILING, prefix="customer__"))``.
    """
    if consent_default(purpose):
        refusing: QuerySet[ConsentState, Any] | list[Any] = customer_ids_refusing(purpose)
        if is_mongodb():
            # MongoDB: a subquery here becomes a $lookup sub-pipeline run per row (the page's joins must
            # stay on plain indexes, crm_site/tests/test_mongodb_commands.py); refusals are few, so one
            # read of their ids and a plain $nin is cheap.
            refusing = list(customer_ids_refusing(purpose).values_list("customer_id", flat=True))
        return ~Q(**{f"{prefix}pk__in": refusing})
    return Q(**{f"{prefix}pk__in": customer_ids_consenting(purpose)})


def customer_consents_to(*, customer_id: Any, purpose: str) -> bool:
    """One customer's answer for one purpose (the default when never asked)."""
    granted = ConsentState.objects.filter(customer_id=customer_id, purpose=purpose).values_list(
        "granted", flat=True
    )
    found = list(granted[:1])
    return found[0] if found else consent_default(purpose)
