"""Record visibility: sales staff see what they own or what is shared with them; managers see all.

Apps reuse this by giving their model's QuerySet ``VisibleQuerySet`` and setting ``visibility_owner``
(the owner field) and ``visibility_shared`` (a callable returning a pk subquery of shared rows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from django.db import models

MANAGER_GROUP = "Manager"


def sees_everything(user: Any) -> bool:
    """Superusers and members of the Manager group see every record (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_crm_sees_everything", None)
    if cached is None:
        cached = user.groups.filter(name=MANAGER_GROUP).exists()
        user._crm_sees_everything = cached
    return bool(cached)


class VisibleQuerySet(models.QuerySet):
    """A QuerySet that can narrow itself to the rows a user may see."""

    visibility_owner: str = "owner"
    # Returns the pks shared with ``user`` (a values_list QuerySet), or None when nothing is shareable.
    visibility_shared: Callable[[Any], models.QuerySet | None] | None = None

    def visible_to(self, user: Any) -> Self:
        if sees_everything(user):
            return self
        if not user.is_authenticated:
            return self.none()
        condition = models.Q(**{self.visibility_owner: user})
        shared = type(self).visibility_shared
        if shared is not None:
            shared_pks = shared(user)
            if shared_pks is not None:
                condition |= models.Q(pk__in=shared_pks)
        return self.filter(condition)
