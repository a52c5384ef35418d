"""Sharing a customer with users and teams, and its relationships to other customers or partners."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from crm_site.db import atomic
from crm_site.visibility import sees_everything
from customers.models import Customer, CustomerShare, CustomerTeamShare, Relationship


def sharing_allowed(*, user: Any, customer: Customer) -> bool:
    """Only the owner and managers decide who else sees a customer (a share does not pass that on)."""
    return sees_everything(user) or (user.is_authenticated and customer.owner_id == user.pk)


def _require_sharing(by: Any, customer: Customer) -> None:
    if by is not None and not sharing_allowed(user=by, customer=customer):
        raise PermissionDenied(_("Only the owner or a manager can change who sees this customer."))


@atomic
def customer_share_with(
    *, customer: Customer, by: Any, user: Any = None, group: Group | None = None
) -> CustomerShare | CustomerTeamShare:
    """Share ``customer`` with one staff user or one team (idempotent); ``by`` must be owner or manager."""
    _require_sharing(by, customer)
    if (user is None) == (group is None):
        raise ValidationError(_("Choose either a user or a team."))
    if user is not None:
        if user.pk == customer.owner_id:
            raise ValidationError({"user": _("%(user)s already owns this customer.") % {"user": user}})
        if not user.is_active:
            raise ValidationError({"user": _("%(user)s is not an active user.") % {"user": user}})
        share, _created = CustomerShare.objects.get_or_create(customer=customer, user=user)
        return share
    team_share, _created = CustomerTeamShare.objects.get_or_create(customer=customer, group=group)
    return team_share


@atomic
def customer_unshare_with(
    *, customer: Customer, by: Any, user: Any = None, group: Group | None = None
) -> None:
    """Stop sharing ``customer`` with a user or a team (nothing happens when it was not shared)."""
    _require_sharing(by, customer)
    if user is not None:
        pks = list(CustomerShare.objects.filter(customer=customer, user=user).values_list("pk", flat=True))
        CustomerShare.objects.filter(pk__in=pks).delete()
    if group is not None:
        pks = list(
            CustomerTeamShare.objects.filter(customer=customer, group=group).values_list("pk", flat=True)
        )
        CustomerTeamShare.objects.filter(pk__in=pks).delete()


@atomic
def relationship_delete(*, relationship: Relationship) -> None:
    Relationship.objects.filter(pk=relationship.pk).delete()
