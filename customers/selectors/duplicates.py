"""Duplicate detection: customers sharing a normalised phone/email/WeChat, or with very similar names."""

from __future__ import annotations

import difflib
from typing import Any

from django.db.models import Count

from customers.models import ContactMethod, Customer

NAME_SIMILARITY = 0.85


def _name_key(name: str) -> str:
    return "".join(name.lower().split())


def duplicate_candidates(*, user: Any, customer: Customer, limit: int = 20) -> list[dict[str, Any]]:
    """Visible customers that may be ``customer`` again, each with the reasons why."""
    visible = Customer.objects.visible_to(user).exclude(pk=customer.pk)
    reasons: dict[Any, list[str]] = {}
    values = list(customer.contact_methods.values_list("value_normalized", flat=True))
    if values:
        for pk, value in (
            # Only visible customers' values: another user's private customer must not fill the list.
            ContactMethod.objects.filter(value_normalized__in=values, customer_id__in=visible.values("pk"))
            .exclude(customer_id=customer.pk)
            .values_list("customer_id", "value")[: limit * 5]
        ):
            reasons.setdefault(pk, []).append(str(value))
    key = _name_key(customer.name)
    if key:
        # Same first characters is cheap to index; the similarity ratio then does the fuzzy part.
        for pk, name in visible.filter(name__istartswith=customer.name.strip()[:2]).values_list("pk", "name")[
            :500
        ]:
            if difflib.SequenceMatcher(None, key, _name_key(name)).ratio() >= NAME_SIMILARITY:
                reasons.setdefault(pk, []).append(name)
    matched = {c.pk: c for c in visible.filter(pk__in=list(reasons)[:limit]).select_related("owner")}
    return [
        {"customer": matched[pk], "matches": sorted(set(reasons[pk]))}
        for pk in list(reasons)[:limit]
        if pk in matched
    ]


def duplicate_groups(*, user: Any, limit: int = 50) -> list[dict[str, Any]]:
    """Contact values shared by more than one visible customer, with those customers."""
    visible_pks = Customer.objects.visible_to(user).values("pk")
    shared = (
        ContactMethod.objects.filter(customer_id__in=visible_pks)
        .values("value_normalized")
        .annotate(n=Count("customer_id", distinct=True))
        .filter(n__gt=1)
        .order_by("-n", "value_normalized")[:limit]
    )
    values = [row["value_normalized"] for row in shared]
    members: dict[str, list[Customer]] = {value: [] for value in values}
    if values:
        links = ContactMethod.objects.filter(
            value_normalized__in=values, customer_id__in=visible_pks
        ).values_list("value_normalized", "customer_id")
        pairs = list(links)
        customers = {c.pk: c for c in Customer.objects.filter(pk__in={pk for _v, pk in pairs})}
        for value, pk in pairs:
            if pk in customers and customers[pk] not in members[value]:
                members[value].append(customers[pk])
    return [{"value": value, "customers": members[value]} for value in values if len(members[value]) > 1]
