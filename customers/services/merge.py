"""Merge a duplicate customer into a survivor: every related record moves, the loser is kept in the audit."""

from __future__ import annotations

import json
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from crm_site.db import atomic, on_commit
from crm_site.signals import customer_activity
from customers.models import (
    Customer,
    CustomerMerge,
    CustomerShare,
    CustomerTag,
    CustomerTeamShare,
    Relationship,
)
from customers.services.customers import customer_defaults_enforce

# Fields a merge screen may take from the loser; the rest stay the survivor's.
MERGEABLE_FIELDS = [
    "kind",
    "name",
    "gender",
    "birth_date",
    "company_name",
    "job_title",
    "industry",
    "company_size",
    "website",
    "tax_number",
    "lifecycle_stage",
    "source",
    "owner",
    "notes",
    "marketing_consent",
]
# Rows unique per customer: moving a duplicate of what the survivor has would break the constraint.
_UNIQUE_PER_CUSTOMER: dict[type[models.Model], str] = {
    CustomerTag: "tag_id",
    CustomerShare: "user_id",
    CustomerTeamShare: "group_id",
}


class _SnapshotEncoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)  # e.g. a MongoDB ObjectId user key


def _snapshot(customer: Customer) -> dict[str, Any]:
    data = model_to_dict(customer, exclude=["tags"])
    data.update(id=customer.pk, created_at=customer.created_at, updated_at=customer.updated_at)
    data["contact_methods"] = list(customer.contact_methods.values("id", "kind", "value", "is_primary"))
    data["addresses"] = list(customer.addresses.values("id", "label", "province", "city", "street"))
    data["tags"] = list(customer.customer_tags.values_list("tag__name", flat=True))
    return json.loads(json.dumps(data, cls=_SnapshotEncoder))


def _move_related(loser: Customer, survivor: Customer) -> dict[str, int]:
    """Point every foreign key to the loser (in any app) at the survivor; returns counts per model."""
    moved: dict[str, int] = {}
    for relation in Customer._meta.related_objects:
        # A reverse relation always points at a model class ("self" is only for unresolved fields).
        model = cast(type[models.Model], relation.related_model)
        if model is CustomerMerge or relation.many_to_many:
            continue
        fk = relation.field.name
        label = f"{model._meta.label}.{fk}"
        if relation.one_to_one:
            if model._default_manager.filter(**{fk: survivor}).exists():
                # The survivor already has its own (e.g. a computed profile): the loser's is recomputable.
                moved[label] = 0
                continue
        unique_field = _UNIQUE_PER_CUSTOMER.get(model)
        qs = model._base_manager.filter(**{fk: loser})
        if unique_field:
            have = model._base_manager.filter(**{fk: survivor}).values_list(unique_field, flat=True)
            dupes = list(qs.filter(**{f"{unique_field}__in": list(have)}).values_list("pk", flat=True))
            model._base_manager.filter(pk__in=dupes).delete()
        pks = list(qs.values_list("pk", flat=True))
        if pks:
            model._base_manager.filter(pk__in=pks).update(**{fk: survivor})
        moved[label] = len(pks)
    # A relation from the survivor to itself means nothing once both are one.
    selfish = list(
        Relationship.objects.filter(customer=survivor, related_customer=survivor).values_list("pk", flat=True)
    )
    Relationship.objects.filter(pk__in=selfish).delete()
    return moved


@atomic
def customer_merge(
    *, survivor: Customer, loser: Customer, take_from_loser: list[str] | None = None, by: Any = None
) -> CustomerMerge:
    """Merge ``loser`` into ``survivor``.

    ``take_from_loser`` names the fields whose loser value survives. Custom field values the survivor
    lacks are taken from the loser; the loser's external id moves over when the survivor has none.
    """
    if survivor.pk == loser.pk:
        raise ValidationError(_("Choose two different customers to merge."))
    take = list(take_from_loser or [])
    unknown = set(take) - set(MERGEABLE_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be merged: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    snapshot = _snapshot(loser)
    for name in take:
        setattr(survivor, name, getattr(loser, name))
    survivor.attributes = {**(loser.attributes or {}), **(survivor.attributes or {})}
    survivor.notes = (
        survivor.notes
        if "notes" in take or not loser.notes
        else "\n\n".join(part for part in (survivor.notes, loser.notes) if part)
    )
    loser_external_id = loser.external_id
    moved = _move_related(loser, survivor)
    customer_defaults_enforce(customer=survivor)  # the survivor's oldest default and primaries stay
    merge = CustomerMerge(
        survivor=survivor,
        survivor_name=survivor.name,
        merged_customer_id=loser.pk,
        merged_customer_name=loser.name,
        merged_by=by,
        snapshot=snapshot,
        chosen_fields=take,
        moved=moved,
    )
    merge.full_clean()
    merge.save()
    loser_pk = loser.pk
    loser.delete()
    if loser_external_id and not survivor.external_id:
        survivor.external_id = loser_external_id
    survivor.full_clean()
    survivor.save()
    survivor_pk = survivor.pk
    on_commit(
        lambda: customer_activity.send(sender=Customer, customer_ids=[survivor_pk], merged_ids=[loser_pk])
    )
    return merge


def merge_field_choices(survivor: Customer, loser: Customer) -> list[dict[str, Any]]:
    """For the merge screen: each mergeable field with both values, where they differ."""
    rows = []
    for name in MERGEABLE_FIELDS:
        field = cast(models.Field, Customer._meta.get_field(name))  # all concrete fields of Customer
        left, right = getattr(survivor, name), getattr(loser, name)
        display = getattr(survivor, f"get_{name}_display", None)
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,
                "survivor": display() if display else left,
                "loser": getattr(loser, f"get_{name}_display")() if display else right,
                "differs": left != right,
            }
        )
    return rows
