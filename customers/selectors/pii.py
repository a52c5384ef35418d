"""Who sees personal data in full, and the value a viewer is shown (issue 13).

Users without ``customers.view_pii_customer`` (Marketing by default) see personal values masked by the
rules of ``customers.masking``; users with ``customers.reveal_pii_customer`` may ask for one full value
at a time (``customers.services.pii.pii_reveal``, audited). Both checks read the user's permission cache
(Django fills it once per user object, hence once per request), so calling them per value costs nothing.
"""

from __future__ import annotations

from typing import Any

from customers.masking import mask_contact

VIEW_PII = "customers.view_pii_customer"
REVEAL_PII = "customers.reveal_pii_customer"
# The customer fields shown masked, with their masking kind (contact methods mask by their own kind).
PII_FIELDS = {"birth_date": "birth_date", "id_number": "id_number"}
ADDRESS_PII_FIELDS = {"street": "street", "postal_code": "postal_code"}


def can_see_pii(user: Any) -> bool:
    """Whether ``user`` sees personal values unmasked (superusers hold every permission)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.has_perm(VIEW_PII))


def can_reveal_pii(user: Any) -> bool:
    """Whether ``user`` may reveal one masked value at a time (an explicit, audited action)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.has_perm(REVEAL_PII))


def shown(value: Any, kind: str, *, user: Any) -> Any:
    """``value`` as ``user`` may see it: unchanged with view_pii, masked by its kind's rule otherwise."""
    if value in (None, ""):
        return value
    if can_see_pii(user):
        return value
    return mask_contact(kind, value)


def masker(user: Any) -> Any:
    """A ``(value, kind) -> shown value`` function for ``user``, the permission asked once (exports)."""
    if can_see_pii(user):
        return lambda value, kind: value
    return lambda value, kind: value if value in (None, "") else mask_contact(kind, value)
