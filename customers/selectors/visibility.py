"""The customer rule, and the reads other apps use to ask which customers a user may see.

Sales staff see and change the customers they own, those shared with them and those shared with one of
their teams; managers see and change all. Service agents and marketing read every customer (they hold
``customers.view_all_customer``, see ``crm_site/roles.py``) and change only what the rule gives them.
``customer_rule`` is that rule, written once: ``CustomersConfig.ready`` registers it with
``crm_site.visibility``, whose ``visible_to(user, action="view"|"change")`` applies it to customers and,
through ``visibility_via = ("customer",)``, to every model that points at a customer (orders, tickets,
projects, opportunities, profiles...). Other apps never import customers' models to read: they use
``visible_to`` on their own models or the functions below (``action`` defaults to "view").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from crm_site.db import is_mongodb
from crm_site.visibility import VIEW, Action, sees_all, user_groups
from customers.models import Customer, CustomerShare, CustomerTeamShare

LOOKUP_CHUNK = 1000


def customer_rule(user: Any) -> Q:
    """The customers an authenticated non-manager sees: owned, shared with them, shared with their team."""
    direct = CustomerShare.objects.filter(user=user).values("customer_id")
    # Cached on the request's user object (with the roles): a page asks for the rule several times.
    team_ids = [pk for pk, _name in user_groups(user)]
    team = CustomerTeamShare.objects.filter(group_id__in=team_ids).values("customer_id")
    direct_ids: QuerySet[Any, Any] | list[uuid.UUID] = direct
    team_customer_ids: QuerySet[Any, Any] | list[uuid.UUID] = team
    if is_mongodb():
        # MongoDB: keep the query to plain lookups; shares per user are few, so a list is cheap.
        direct_ids = list(direct.values_list("customer_id", flat=True))
        team_customer_ids = list(team.values_list("customer_id", flat=True))
    condition = Q(owner=user) | Q(pk__in=direct_ids)
    if team_ids:
        condition |= Q(pk__in=team_customer_ids)
    return condition


def visible_customers(*, user: Any, action: Action = VIEW) -> QuerySet[Customer]:
    """Every customer ``user`` may see, or change (a queryset: use ``.values("pk")`` for a subquery)."""
    return Customer.objects.visible_to(user, action=action)


def visible_customer_filter(*, user: Any, field: str = "customer", action: Action = VIEW) -> Q:
    """A condition on another model's customer foreign key ``field``: rows of customers ``user`` may see.

    Written for an index on both kinds of store: nothing at all for a user who sees every customer
    (managers; service and marketing for "view"); else ``field IN (SELECT id ...)`` on SQL databases and
    the materialised id list on MongoDB, where an IN-subquery is a ``$lookup`` into customers for every
    row (as ``crm_site.visibility`` does for ``visibility_via``).
    """
    if sees_all(user, Customer, action):
        return Q()
    visible = Customer.objects.visible_to(user, action=action)
    pks: Any = list(visible.values_list("pk", flat=True)) if is_mongodb() else visible.values("pk")
    return Q(**{f"{field}__in": pks})


def visible_customer_ids(*, user: Any, pks: Iterable[Any], action: Action = VIEW) -> set[uuid.UUID]:
    """Which of ``pks`` are customers ``user`` may see, or change (one query per 1,000 ids)."""
    wanted = list(dict.fromkeys(pks))
    visible: set[uuid.UUID] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        visible.update(
            Customer.objects.visible_to(user, action=action)
            .filter(pk__in=wanted[start : start + LOOKUP_CHUNK])
            .values_list("pk", flat=True)
        )
    return visible


def visible_customer_by_key(*, user: Any, key: str, action: Action = VIEW) -> Customer | None:
    """The visible customer whose external id, or else whose id, is ``key`` (None if there is none)."""
    visible = Customer.objects.visible_to(user, action=action)
    customer = visible.filter(external_id=key).first()
    if customer is None:
        try:
            customer = visible.filter(pk=key).first()
        except (ValueError, ValidationError):
            customer = None
    return customer
