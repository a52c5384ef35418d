"""Partner reads and the partner edit rule.

Who sees and edits partners (decided for issue 9):
- Partners are the company's shared directory of resellers, suppliers and affiliates: every staff user
  holding ``customers.view_partner`` may list and open any partner and its contacts (a sales user picks
  the reseller a customer buys through from that directory).
- Only the partner's owner and managers may change it; a partner without an owner (rows from before
  this rule, or an owner who left) is managers' only. New partners are owned by their creator.
- What a partner page lists about customers goes through the viewer's customer visibility.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from crm_site.visibility import sees_everything
from customers.models import Partner, Relationship
from customers.selectors.visibility import visible_customer_filter


def partner_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Partner]:
    """The partner directory, narrowed by ``filters`` (q: name/city/email text, kind, active)."""
    filters = filters or {}
    qs = Partner.objects.select_related("owner")
    if query := str(filters.get("q") or "").strip():
        qs = qs.filter(Q(name__icontains=query) | Q(city__icontains=query) | Q(email__icontains=query))
    if kind := filters.get("kind"):
        qs = qs.filter(kind=kind)
    if filters.get("active"):
        qs = qs.filter(is_active=True)
    if filters.get("mine"):
        qs = qs.filter(owner=user)
    return qs.order_by("name", "pk")


def partner_get(*, user: Any, pk: Any) -> Partner:
    """One partner (Http404 when there is none with that pk)."""
    try:
        return Partner.objects.select_related("owner").get(pk=pk)
    except (Partner.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such partner.") from exc


def partner_editable(*, user: Any, partner: Partner) -> bool:
    """Owner and managers edit a partner; an ownerless partner is managers' only."""
    if sees_everything(user):
        return True
    return bool(user.is_authenticated and partner.owner_id is not None and partner.owner_id == user.pk)


def partner_contacts(*, partner: Partner) -> list[Any]:
    """The partner's contact people."""
    return list(partner.contacts.all())


def partner_customers(*, user: Any, partner: Partner, limit: int = 50) -> list[Relationship]:
    """The partner's links to customers ``user`` may see (at most ``limit``), customers joined."""
    return list(
        Relationship.objects.filter(visible_customer_filter(user=user), partner=partner)
        .select_related("customer")
        .order_by("customer__name", "pk")[:limit]
    )
