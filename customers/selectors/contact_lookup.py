"""Which visible customer a phone number or email address from another system belongs to (in any spelling)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Literal

from crm_site.visibility import VIEW, Action
from customers.models import ContactMethod
from customers.normalize import PHONE_KINDS, contact_hash, normalize_contact
from customers.selectors.visibility import LOOKUP_CHUNK, visible_customer_ids

ContactKind = Literal["phone", "email"]


def customer_ids_by_contact(
    *, user: Any, kind: ContactKind, values: Iterable[str], action: Action = VIEW
) -> dict[str, uuid.UUID]:
    """raw value -> id of the customer ``user`` may see whose phone (``kind="phone"``: phone or mobile)
    or email address it is, matched on the normalised form (+86 138-0013-8000 is 13800138000).

    A value of a customer the user may not see is left out, exactly like an unknown one. When several
    visible customers share a value, a primary contact method wins, then the oldest. Queries: one per
    1,000 distinct values on the contact index, then the visibility rule on the candidates only.
    """
    kinds = sorted(PHONE_KINDS) if kind == "phone" else [ContactMethod.Kind.EMAIL]
    normalised: dict[str, str] = {}
    for value in values:
        key = normalize_contact(kinds[0], value) if isinstance(value, str) else ""
        if key:
            normalised[value] = contact_hash(key)  # matched on the blind index
    wanted = list(dict.fromkeys(normalised.values()))
    candidates: dict[str, list[uuid.UUID]] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        rows = (
            ContactMethod.objects.filter(kind__in=kinds, value_hash__in=wanted[start : start + LOOKUP_CHUNK])
            .order_by("value_hash", "-is_primary", "created_at")
            .values_list("value_hash", "customer_id")
        )
        for key, customer_id in rows:
            candidates.setdefault(key, []).append(customer_id)
    visible = visible_customer_ids(
        user=user, pks=[pk for pks in candidates.values() for pk in pks], action=action
    )
    best = {
        key: next(pk for pk in pks if pk in visible)
        for key, pks in candidates.items()
        if any(pk in visible for pk in pks)
    }
    return {value: best[key] for value, key in normalised.items() if key in best}
