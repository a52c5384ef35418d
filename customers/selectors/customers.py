"""Customer list, detail and bulk reads."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from crm_site import paging
from crm_site.db import bulk_reads
from crm_site.paging import CursorKind
from crm_site.visibility import VIEW, Action, allowed
from customers.models import (
    Address,
    ContactMethod,
    Customer,
    CustomerMerge,
    CustomerTag,
    CustomFieldDefinition,
)
from customers.selectors.visibility import visible_customer_filter

# sort key -> (model field, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "name": ("name", False),
    "-name": ("name", True),
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
}
DEFAULT_SORT = "name"


def custom_field_definitions(*, filterable_only: bool = False) -> list[CustomFieldDefinition]:
    """The active custom fields in display order."""
    qs = CustomFieldDefinition.objects.filter(is_active=True)
    if filterable_only:
        qs = qs.filter(filterable=True)
    return list(qs)


# A search collects at most this many matching ids before ordering them (see _search).
SEARCH_ID_CAP = 500
# Shorter searches match the start of a name: a trigram index cannot serve a 1-2 character substring.
SUBSTRING_MIN_LENGTH = 3


def _search(qs: QuerySet[Customer], query: str, *, by_contact: bool = True) -> QuerySet[Customer]:
    """The customer matching rule of ``customer_choices`` (``choices.contact_match``/``customer_match``).

    Name/company substring (prefix for 1-2 characters, e.g. "张伟"), the start of an external id; a
    contact value whole (phone in any spelling, email, WeChat), the start of an email, 4+ phone digits.

    Done in two steps so that no plan has to walk the whole sorted table looking for a rare match:
    first the matching ids, unordered and capped (contact values through their exact-match index, names
    through the trigram indexes on PostgreSQL), then the page is ordered among those ids only. When the
    text matches more than ``SEARCH_ID_CAP`` rows it is a common word, and the plain ordered filter finds a
    page of matches within the first few thousand rows of the sort index.
    """
    from customers.selectors.choices import contact_match, contact_matches, customer_match

    text = query.strip()
    if not text:
        return qs
    if not by_contact:  # a masked user's search without a reveal unit: names and external ids only
        return qs.filter(customer_match(text))
    # The contact values' own index first (no join into customers: on MongoDB an IN-subquery is a
    # $lookup for every contact method); qs applies visibility to these ids below. When the cap is
    # full, other users' customers with the same phone digits may crowd a sales user's own match out
    # of it: then the matches are taken among the customers qs may see.
    # The values are encrypted: the index gives candidates, their decrypted values decide (phone digits
    # beyond the stored last 4, an email start beyond its local part).
    contacts = (
        ContactMethod.objects.filter(contact_match(text))
        .order_by()
        .values_list("customer_id", "kind", "value", "value_hash")
    )

    def matching(rows: Any) -> list[Any]:
        return [
            customer_id
            for customer_id, kind, value, value_hash in rows
            if contact_matches(text, kind=kind, value=value, value_hash=value_hash)
        ]

    fetched = list(contacts[:SEARCH_ID_CAP])
    contact_ids = matching(fetched)
    if len(fetched) == SEARCH_ID_CAP:
        contact_ids = matching(contacts.filter(customer_id__in=qs.values("pk"))[:SEARCH_ID_CAP])
    text_match = customer_match(text)
    text_ids = list(qs.filter(text_match).order_by().values_list("pk", flat=True)[: SEARCH_ID_CAP + 1])
    if len(text_ids) > SEARCH_ID_CAP:
        return qs.filter(text_match | Q(pk__in=contact_ids))
    # Contact matches still go through qs, so visibility applies to them too.
    return qs.filter(pk__in=list(dict.fromkeys(text_ids + contact_ids)))


def customer_list(*, user: Any, filters: dict | None = None) -> QuerySet[Customer]:
    """Customers ``user`` may see, narrowed by ``filters``.

    Filter keys: q (search), owner (user pk), stage, source, kind, tag (tag pk), consent ("yes"/"no"),
    and ``cf_<key>`` for each filterable custom field.
    """
    filters = filters or {}
    qs: QuerySet[Customer] = Customer.objects.visible_to(user).select_related("owner")
    if query := (filters.get("q") or "").strip():
        from customers.services.pii import contact_search_allowed

        qs = _search(qs, query, by_contact=contact_search_allowed(user=user, query=query))
    if owner := filters.get("owner"):
        qs = qs.filter(owner_id=owner)
    if stage := filters.get("stage"):
        qs = qs.filter(lifecycle_stage=stage)
    if source := filters.get("source"):
        qs = qs.filter(source=source)
    if kind := filters.get("kind"):
        qs = qs.filter(kind=kind)
    if tag := filters.get("tag"):
        qs = qs.filter(pk__in=CustomerTag.objects.filter(tag_id=tag).values("customer_id"))
    if consent := filters.get("consent"):
        qs = qs.filter(marketing_consent=(consent == "yes"))
    # Only a cf_ filter needs the definitions (saves a query on every plain list page).
    wanted = any(key.startswith("cf_") and value not in (None, "") for key, value in filters.items())
    for definition in custom_field_definitions(filterable_only=True) if wanted else []:
        raw = filters.get(f"cf_{definition.key}")
        if raw in (None, ""):
            continue
        try:
            value = definition.to_json(raw)
        except Exception:  # noqa: BLE001 - an unparsable filter value simply matches nothing
            return qs.none()
        lookup = f"attributes__{definition.key}"
        if definition.field_type == CustomFieldDefinition.FieldType.TEXT:
            qs = qs.filter(**{f"{lookup}__icontains": value})
        else:
            qs = qs.filter(**{lookup: value})
    return qs


def customer_get(*, user: Any, pk: Any, action: Action = VIEW) -> Customer:
    """The customer if ``user`` may see it; Http404 otherwise (no hint that it exists).

    With ``action="change"``, a customer the user sees but may not change (a service agent on a sales
    user's customer) is a PermissionDenied: the 403 tells them nothing they cannot already read.
    """
    customer = _customer_visible(user=user, pk=pk)
    if action != VIEW and not allowed(user, customer, action):
        raise PermissionDenied(_("You may read this customer but not change it."))
    return customer


def _customer_visible(*, user: Any, pk: Any) -> Customer:
    try:
        return Customer.objects.visible_to(user).select_related("owner").get(pk=pk)
    except (Customer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such customer.") from exc
    except Exception as exc:  # noqa: BLE001 - a malformed pk on some backends raises ValidationError
        if exc.__class__.__name__ == "ValidationError":
            raise Http404("No such customer.") from exc
        raise


def bounded_count(qs: QuerySet, limit: int = 1000) -> tuple[int, bool]:
    """How many rows, counting at most ``limit`` (so a 1,000,000-row list never COUNTs the table)."""
    n = qs.order_by().values("pk")[: limit + 1].count()
    return min(n, limit), n > limit


def _cursor_kind(field_name: str) -> CursorKind:
    return "text" if field_name == "name" else "datetime"


def decode_cursor(cursor: str, *, sort: str = DEFAULT_SORT) -> tuple[Any, uuid.UUID, str] | None:
    """(sort value, pk, direction) of a list cursor made for ``sort``; None when it is not one."""
    field_name, _descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
    return paging.decode_cursor(cursor, kind=_cursor_kind(field_name))


@dataclass
class KeysetPage(paging.KeysetPage):
    """A page of customers (``crm_site.paging.keyset_page``) with each row's tags."""

    tags: dict[Any, list[Any]] = field(default_factory=dict)


def customer_page(
    qs: QuerySet[Customer], *, sort: str = DEFAULT_SORT, cursor: str | None = None, size: int = 25
) -> KeysetPage:
    """A page ordered by (sort field, pk), starting after/before ``cursor``: constant cost at any depth."""
    field_name, descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
    page = paging.keyset_page(
        qs, field=field_name, descending=descending, kind=_cursor_kind(field_name), cursor=cursor, size=size
    )
    return KeysetPage(
        rows=page.rows,
        next_cursor=page.next_cursor,
        prev_cursor=page.prev_cursor,
        is_first=page.is_first,
        tags=tags_for_customers([row.pk for row in page.rows]),
    )


def tags_for_customers(customer_ids: list[Any]) -> dict[Any, list[Any]]:
    """customer pk -> its tags, in one query for a whole page."""
    found: dict[Any, list[Any]] = defaultdict(list)
    if customer_ids:
        for link in CustomerTag.objects.filter(customer_id__in=customer_ids).select_related("tag"):
            found[link.customer_id].append(link.tag)
    return dict(found)


def customer_ids_by_external_id(external_ids: Iterable[str]) -> dict[str, uuid.UUID]:
    """external id -> customer pk for those that exist, or were merged into one (1,000 at a time)."""
    wanted = [str(value) for value in dict.fromkeys(external_ids) if value not in (None, "")]
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        found.update(Customer.objects.filter(external_id__in=chunk).values_list("external_id", "pk"))
    missing = [value for value in wanted if value not in found]
    for start in range(0, len(missing), 1000):
        # A merged-away customer's external id (in its audit snapshot) still names the survivor, so a
        # shop that keeps sending it does not bring the duplicate back.
        merged = (
            CustomerMerge.objects.filter(
                snapshot__external_id__in=missing[start : start + 1000], survivor__isnull=False
            )
            .order_by("created_at")
            .values_list("snapshot__external_id", "survivor_id")
        )
        found.update((str(external_id), survivor_id) for external_id, survivor_id in merged)
    return found


PROFILE_FIELDS = ("id", "gender", "birth_date", "lifecycle_stage", "source", "created_at")


def customers_for_profiles(
    *, customer_ids: Iterable | None = None, chunk_size: int = 50_000
) -> Iterator[list[dict]]:
    """Chunks of plain dicts for the profile pipeline; two queries per chunk whatever its size."""
    if customer_ids is not None:
        ids = list(customer_ids)
        for start in range(0, len(ids), chunk_size):
            rows = list(
                Customer.objects.filter(pk__in=ids[start : start + chunk_size]).values(*PROFILE_FIELDS)
            )
            if rows:
                yield _with_default_address(rows)
        return
    # Everyone: two streamed passes (default addresses, then customers), no id lists sent back.
    with bulk_reads():
        shared: dict[tuple[str, str], tuple[str, str]] = {}  # one tuple per distinct place, not per row
        places = {
            customer_id: shared.setdefault((province, city), (province, city))
            for customer_id, province, city in Address.objects.filter(is_default=True)
            .order_by()
            .values_list("customer_id", "province", "city")
            .iterator(chunk_size=chunk_size)
        }
        stream = Customer.objects.order_by().values(*PROFILE_FIELDS).iterator(chunk_size=chunk_size)
        while chunk := list(islice(stream, chunk_size)):
            yield _with_places(chunk, places)


def _with_default_address(rows: list[dict]) -> list[dict]:
    ids = [row["id"] for row in rows]
    places: dict[Any, tuple[str, str]] = {}
    for start in range(0, len(ids), 10_000):
        for customer_id, province, city in (
            Address.objects.filter(customer_id__in=ids[start : start + 10_000], is_default=True)
            .order_by()
            .values_list("customer_id", "province", "city")
        ):
            places[customer_id] = (province, city)
    return _with_places(rows, places)


def _with_places(rows: list[dict], places: dict[Any, tuple[str, str]]) -> list[dict]:
    """Each row's default province and city ("" without one), and its id as str. The birth date is the
    decrypted ``date`` or None (an unreadable one counts as unknown, issue 13)."""
    for row in rows:
        row["province"], row["city"] = places.get(row["id"], ("", ""))
        row["id"] = str(row["id"])
        if not isinstance(row.get("birth_date"), datetime.date):
            row["birth_date"] = None
    return rows


def customer_shares(*, customer: Customer) -> tuple[list[Any], list[Any]]:
    """Who a customer is shared with: (user shares, team shares), two queries."""
    from customers.models import CustomerShare, CustomerTeamShare

    users = list(
        CustomerShare.objects.filter(customer=customer).select_related("user").order_by("created_at")
    )
    teams = list(
        CustomerTeamShare.objects.filter(customer=customer).select_related("group").order_by("created_at")
    )
    return users, teams


def customer_relationships(*, user: Any, customer: Customer) -> tuple[list[Any], list[Any]]:
    """The customer's links as ``user`` may see them: (its own links, links from other customers to it).

    Both directions go through the viewer's visibility: a link to or from a customer the viewer cannot
    see is left out, so a private customer's name never shows on a page its owner shared (two queries).
    """
    from customers.models import Relationship

    own = Relationship.objects.filter(customer=customer)
    if related := visible_customer_filter(user=user, field="related_customer"):
        # Empty for a user who sees every customer: every link (an empty Q would cancel the OR).
        own = own.filter(Q(related_customer__isnull=True) | related)
    own_links = list(own.select_related("related_customer", "partner"))
    inverse = list(
        Relationship.objects.filter(
            visible_customer_filter(user=user), related_customer=customer
        ).select_related("customer")
    )
    return own_links, inverse
