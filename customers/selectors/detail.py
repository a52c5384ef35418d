"""What the customer page shows about one customer (the caller has checked the user may see it)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404

from customers.models import ContactMethod, Customer, CustomerMerge, CustomFieldDefinition, Relationship
from customers.selectors.customers import custom_field_definitions, customer_relationships, customer_shares


def customer_custom_values(*, customer: Customer) -> list[tuple[CustomFieldDefinition, Any]]:
    """(definition, value) of each active custom field the customer has a value for."""
    attributes = customer.attributes or {}
    if not attributes:
        return []  # no values stored: no need to read the definitions
    return [
        (definition, attributes.get(definition.key))
        for definition in custom_field_definitions()
        if definition.key in attributes
    ]


def customer_email_addresses(*, customer: Customer) -> list[ContactMethod]:
    """The customer's email addresses, primary first (``do_not_contact`` marks the ones not to write to)."""
    return list(customer.contact_methods.filter(kind=ContactMethod.Kind.EMAIL))


def customer_merges(*, customer: Customer, limit: int = 10) -> list[CustomerMerge]:
    """The latest merges into this customer, with who merged."""
    return list(CustomerMerge.objects.filter(survivor=customer).select_related("merged_by")[:limit])


def customer_detail_data(*, user: Any, customer: Customer) -> dict[str, Any]:
    """The customer page's context: shares, contact methods, addresses, relationships, tags, custom
    values and merges (one query each; relationships are narrowed to what ``user`` may see)."""
    user_shares, team_shares = customer_shares(customer=customer)
    relationships, inverse_relationships = customer_relationships(user=user, customer=customer)
    return {
        "user_shares": user_shares,
        "team_shares": team_shares,
        "contact_methods": list(customer.contact_methods.all()),
        "addresses": list(customer.addresses.all()),
        "relationships": relationships,
        "inverse_relationships": inverse_relationships,
        "tags": [link.tag for link in customer.customer_tags.select_related("tag")],
        "custom_values": customer_custom_values(customer=customer),
        "merges": customer_merges(customer=customer),
    }


def relationship_get(*, customer: Customer, pk: Any) -> Relationship:
    """One of the customer's own relationships (404 for any other)."""
    return get_object_or_404(Relationship, pk=pk, customer=customer)


def share_target_get(*, kind: str, pk: Any) -> Any:
    """The user (``kind`` "user") or team ("team") a share names; 404 for anything else."""
    targets: dict[str, type[models.Model]] = {"user": get_user_model(), "team": Group}
    model = targets.get(kind)
    if model is None:
        raise Http404("No such share.")
    try:
        # The pk of a user or group: an integer on SQL databases, an ObjectId on MongoDB.
        return get_object_or_404(model, pk=pk)
    except (ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such share.") from exc
