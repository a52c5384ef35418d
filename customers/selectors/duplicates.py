"""Duplicate detection: customers sharing a normalised phone/email/WeChat, or with very similar names.

Also what tells duplicates apart (owner, created, history from every app, contact values), which record a
merge keeps by default, and where a merged-away customer's URL leads.
"""

from __future__ import annotations

import difflib
from typing import Any

from django.db.models import Count
from django.utils import timezone

from crm_site.registry import customer_history
from customers.merge_rules import contact_key
from customers.models import ContactMethod, Customer, CustomerMerge
from customers.normalize import PHONE_KINDS
from customers.selectors.pii import masker
from customers.selectors.visibility import visible_customer_filter

NAME_SIMILARITY = 0.85


def _name_key(name: str) -> str:
    return "".join(name.lower().split())


def duplicate_candidates(*, user: Any, customer: Customer, limit: int = 20) -> list[dict[str, Any]]:
    """Visible customers that may be ``customer`` again, each with the reasons why."""
    visible = Customer.objects.visible_to(user).exclude(pk=customer.pk)
    reasons: dict[Any, list[str]] = {}
    show = masker(user)  # a shared contact value is shown as the user may see it (issue 13)
    values = list(customer.contact_methods.values_list("value_hash", flat=True))
    if values:
        for pk, kind, value in (
            # Only visible customers' values: another user's private customer must not fill the list.
            ContactMethod.objects.filter(visible_customer_filter(user=user), value_hash__in=values)
            .exclude(customer_id=customer.pk)
            .values_list("customer_id", "kind", "value")[: limit * 5]
        ):
            reasons.setdefault(pk, []).append(show(str(value), kind))
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
    visible = visible_customer_filter(user=user)
    shared = (
        ContactMethod.objects.filter(visible)
        .values("value_hash")
        .annotate(n=Count("customer_id", distinct=True))
        .filter(n__gt=1)
        .order_by("-n", "value_hash")[:limit]
    )
    values = [row["value_hash"] for row in shared]
    members: dict[str, list[Customer]] = {value: [] for value in values}
    shown: dict[str, str] = {}  # hash -> one decrypted spelling of the shared value, for the page
    if values:
        links = ContactMethod.objects.filter(visible, value_hash__in=values).values_list(
            "value_hash", "customer_id", "value"
        )
        pairs = []
        for value_hash, pk, clear in links:
            pairs.append((value_hash, pk))
            shown.setdefault(value_hash, str(clear))
        customers = {
            c.pk: c for c in Customer.objects.filter(pk__in={pk for _v, pk in pairs}).select_related("owner")
        }
        for value, pk in pairs:
            if pk in customers and customers[pk] not in members[value]:
                members[value].append(customers[pk])
    groups = [value for value in values if len(members[value]) > 1]
    everyone = list({c.pk: c for value in groups for c in members[value]}.values())
    history, contacts = history_of(everyone), _contacts_of(everyone)  # once for every group
    result = []
    for value in groups:
        rows, differing = _compare(members[value], history, contacts)
        result.append(
            {
                "value": shown.get(value, ""),
                "customers": [row["customer"] for row in rows],
                "rows": rows,
                "differing": differing,
            }
        )
    return result


def customer_duplicates_data(*, user: Any, customer: Customer) -> dict[str, Any]:
    """The duplicates page of one customer: the candidates, and that customer beside them to compare."""
    candidates = duplicate_candidates(user=user, customer=customer)
    matches = {candidate["customer"].pk: candidate["matches"] for candidate in candidates}
    rows, differing = compare_rows([customer, *(candidate["customer"] for candidate in candidates)])
    history = {row["customer"].pk: {"total": row["total"]} for row in rows}
    for row in rows:
        row["matches"] = matches.get(row["customer"].pk, [])
        row["is_this"] = row["customer"].pk == customer.pk
        # Which of the two a merge of this pair keeps by default.
        row["pair_survivor"] = preferred_survivor([customer, row["customer"]], history)
    return {"candidates": candidates, "rows": rows, "differing": differing}


def history_of(customers: list[Customer]) -> dict[Any, dict[str, Any]]:
    """Each customer's history facts from every app (``crm_site.registry.customer_history``): one query
    per source for all of them, with the total count and the latest activity."""
    facts = customer_history.facts([customer.pk for customer in customers])
    result = {}
    for pk, rows in facts.items():
        dates = [fact.last_at for fact in rows if fact.last_at]
        result[pk] = {
            "facts": rows,
            "total": sum(fact.count for fact in rows),
            "last_activity": max(dates, default=None),
        }
    return result


def preferred_survivor(customers: list[Customer], history: dict[Any, dict[str, Any]]) -> Customer:
    """The record a merge keeps by default: the most history, then the oldest."""
    return min(customers, key=lambda c: (-history[c.pk]["total"], c.created_at, str(c.pk)))


def _contacts_of(customers: list[Customer]) -> dict[Any, list[tuple[str, str, str]]]:
    """(kind, value, blind index) of each customer's contact methods, in one query (primary first, then
    by kind and decrypted value)."""
    contacts: dict[Any, list[tuple[str, str, str]]] = {customer.pk: [] for customer in customers}
    rows = sorted(
        ContactMethod.objects.filter(customer_id__in=list(contacts))
        .order_by()
        .values_list("customer_id", "is_primary", "kind", "value", "value_hash"),
        key=lambda row: (not row[1], row[2], str(row[3])),
    )
    for customer_id, _primary, kind, value, value_hash in rows:
        contacts.setdefault(customer_id, []).append((kind, value, value_hash))
    return contacts


def compare_rows(customers: list[Customer]) -> tuple[list[dict[str, Any]], set[str]]:
    """What tells duplicate records apart, one row each (the default survivor first), and the columns
    whose values differ among them (owner, created, orders, last activity, contact values, stage)."""
    return _compare(customers, history_of(customers), _contacts_of(customers))


def _compare(
    customers: list[Customer],
    history: dict[Any, dict[str, Any]],
    contacts: dict[Any, list[tuple[str, str, str]]],
) -> tuple[list[dict[str, Any]], set[str]]:
    survivor = preferred_survivor(customers, history) if customers else None
    rows = []
    for customer in sorted(customers, key=lambda c: (c != survivor, c.created_at, str(c.pk))):
        facts = history[customer.pk]
        rows.append(
            {
                "customer": customer,
                "is_survivor": customer == survivor,
                "facts": facts["facts"],
                "total": facts["total"],
                "last_activity": facts["last_activity"],
                # One entry per normalised value: "+86 138..." and "138..." are the same phone.
                "contacts": list(
                    {
                        contact_key(kind, normalized): value
                        for kind, value, normalized in contacts[customer.pk]
                    }.values()
                ),
                "_keys": {
                    "owner": customer.owner_id,
                    "created": timezone.localdate(customer.created_at) if customer.created_at else None,
                    "history": tuple(fact.count for fact in facts["facts"]),
                    "last_activity": facts["last_activity"],
                    "stage": customer.lifecycle_stage,
                    "contacts": frozenset(contact_key(k, n) for k, _v, n in contacts[customer.pk]),
                },
            }
        )
    differing = {
        key
        for key in ("owner", "created", "history", "last_activity", "stage", "contacts")
        if len({row["_keys"][key] for row in rows}) > 1
    }
    return rows, differing


def merged_contacts(survivor: Customer, loser: Customer) -> list[tuple[str, str]]:
    """The (kind, value) pairs the survivor will hold after a merge: the same normalised value once."""
    contacts = _contacts_of([survivor, loser])
    kept: dict[tuple[str, str], tuple[str, str]] = {}
    for customer in (survivor, loser):
        for kind, value, normalized in contacts[customer.pk]:
            kept.setdefault(contact_key(kind, normalized), (kind, value))
    return list(kept.values())


def contact_owners(*, user: Any, customer: Customer, limit: int = 5) -> list[dict[str, Any]]:
    """Other customers ``user`` may see that hold one of ``customer``'s phone numbers or email addresses.

    For the warning after a save; customers the user cannot see are never counted or named.
    """
    kinds = [*PHONE_KINDS, ContactMethod.Kind.EMAIL]
    values = list(customer.contact_methods.filter(kind__in=kinds).values_list("value_hash", flat=True))
    if not values:
        return []
    hits = list(
        ContactMethod.objects.filter(
            visible_customer_filter(user=user), value_hash__in=values, kind__in=kinds
        )
        .exclude(customer_id=customer.pk)
        .order_by("value_hash", "customer_id")
        .values_list("customer_id", "value")[: limit * 3]
    )
    if not hits:
        return []
    others = {c.pk: c for c in Customer.objects.filter(pk__in={pk for pk, _value in hits}).only("pk", "name")}
    found: dict[Any, dict[str, Any]] = {}
    for pk, value in hits:
        if pk in others:
            found.setdefault(pk, {"customer": others[pk], "values": []})["values"].append(value)
    return list(found.values())[:limit]


def merged_customer_survivor(*, user: Any, pk: Any) -> Customer | None:
    """Where a merged-away customer's record lives now, if ``user`` may see it (None otherwise: a
    survivor the user cannot see is never revealed, the old URL is then a plain 404)."""
    survivor_id = (
        CustomerMerge.objects.filter(merged_customer_id=pk, survivor__isnull=False)
        .order_by("-created_at")
        .values_list("survivor_id", flat=True)
        .first()
    )
    if survivor_id is None:
        return None
    return Customer.objects.visible_to(user).filter(pk=survivor_id).first()
