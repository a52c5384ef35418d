"""Merge a duplicate customer into a survivor: every related record moves, the loser is kept in the audit.

Which value of each field survives is the rule table in ``customers/merge_rules.py``; the user may
choose the other value per field. Related rows of every app move by their foreign key to ``Customer``
(no app is imported here), the merged customer's contact values are deduplicated on their normalised
form, and the ``CustomerMerge`` row is the tombstone that redirects the merged customer's URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.forms.models import model_to_dict
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from crm_site.audit import trail as audit
from crm_site.db import atomic, on_commit
from crm_site.fields import Unreadable, decrypt_text, encrypt_text
from crm_site.signals import customer_activity
from customers.merge_rules import (
    FIXED_REASONS,
    MERGE_RULES,
    RULES_BY_FIELD,
    SIDES,
    MergeRule,
    Side,
    combined_notes,
    contact_key,
    default_sides,
    differs,
)
from customers.models import ContactMethod, Customer, CustomerMerge, Relationship
from customers.services.customers import customer_defaults_enforce
from customers.services.links import sharing_allowed


def merge_allowed(*, user: Any, customers: list[Customer]) -> bool:
    """Only a manager, or the owner of every record, merges: a merge deletes one record, decides what the
    other keeps and who sees it (the merged record's shares move to the kept one: the page says so),
    which a share (read and edit) never grants."""
    return all(sharing_allowed(user=user, customer=customer) for customer in customers)


# Fields a merge screen may take from either record (the rest follow from both: FIXED_REASONS).
MERGEABLE_FIELDS = [rule.field for rule in MERGE_RULES]


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
    # The snapshot is kept: the values encrypted at rest on the customer stay encrypted in it (issue 13).
    for name in ("birth_date", "id_number"):
        data[name] = _sealed(data.get(name))
    for row in data["contact_methods"]:
        row["value"] = _sealed(row["value"])
    for row in data["addresses"]:
        row["street"] = _sealed(row["street"])
    return json.loads(json.dumps(data, cls=_SnapshotEncoder))


def _sealed(value: Any) -> Any:
    """A personal value as the encrypted fields store it (a Fernet token; empty stays empty)."""
    if value in (None, ""):
        return value
    if isinstance(value, Unreadable):
        return value.token
    return encrypt_text(str(value))


def snapshot_open(snapshot: Any) -> Any:
    """A stored merge snapshot with its sealed personal values decrypted (the inverse of ``_snapshot``'s
    sealing): for the pages that show it, which mask it again for viewers without view_pii."""
    if not isinstance(snapshot, dict):
        return snapshot
    opened = dict(snapshot)

    def _open(value: Any) -> Any:
        return str(decrypt_text(value)) if isinstance(value, str) and value else value

    for name in ("birth_date", "id_number"):
        opened[name] = _open(opened.get(name))
    for key, fields in (("contact_methods", ("value",)), ("addresses", ("street",))):
        opened[key] = [
            {**row, **{field: _open(row.get(field)) for field in fields}} if isinstance(row, dict) else row
            for row in opened.get(key) or []
        ]
    return opened


def _unique_with(model: type[models.Model], fk: str) -> list[list[str]]:
    """The other fields of each unconditional unique constraint that includes ``fk``."""
    groups = [
        [name for name in constraint.fields if name != fk]
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and constraint.condition is None
        and fk in constraint.fields
    ]
    groups += [
        [name for name in together if name != fk]
        for together in model._meta.unique_together
        if fk in together
    ]
    return [group for group in groups if group]


def _move_related(loser: Customer, survivor: Customer) -> dict[str, int]:
    """Point every foreign key to the loser (in any app) at the survivor; returns counts per model.

    A row that would repeat one the survivor has under a unique constraint (the same tag, share, or a
    profile of the same run) is the loser's copy of something the survivor keeps: it is dropped.
    Earlier merges into the loser follow too, so their tombstones lead to the survivor.
    """
    moved: dict[str, int] = {}
    for relation in Customer._meta.related_objects:
        # A reverse relation always points at a model class ("self" is only for unresolved fields).
        model = cast(type[models.Model], relation.related_model)
        if relation.many_to_many:
            continue
        fk = relation.field.name
        label = f"{model._meta.label}.{fk}"
        manager = model._base_manager
        if relation.one_to_one and manager.filter(**{fk: survivor}).exists():
            moved[label] = 0  # the survivor already has its own (e.g. a computed record)
            continue
        qs = manager.filter(**{fk: loser})
        for others in _unique_with(model, fk):
            have = set(manager.filter(**{fk: survivor}).values_list(*others))
            clash = [row[0] for row in qs.values_list("pk", *others) if tuple(row[1:]) in have]
            if clash:
                manager.filter(pk__in=clash).delete()
        pks = list(qs.values_list("pk", flat=True))
        if pks:
            manager.filter(pk__in=pks).update(**{fk: survivor})
        moved[label] = len(pks)
    return moved


def _dedupe_contact_methods(survivor: Customer, loser: Customer) -> int:
    """Drop contact values that repeat another on their normalised form; returns how many went.

    The survivor's rows come first (its primaries first), so the survivor's spelling is the one kept; a
    verified duplicate marks the kept row verified, and a do-not-contact one marks it do-not-contact (a
    merge never lifts the customer's request not to be contacted at an address).
    """
    rows = []
    for customer in (survivor, loser):
        rows += list(
            ContactMethod.objects.filter(customer=customer)
            .order_by("-is_primary", "created_at", "pk")
            .values_list("pk", "kind", "value_hash", "is_verified", "do_not_contact")
        )
    kept: dict[tuple[str, str], Any] = {}
    drop, verify, blocked = [], set(), set()
    for pk, kind, normalized, verified, do_not_contact in rows:
        if not normalized:
            continue
        key = contact_key(kind, normalized)
        if key not in kept:
            kept[key] = pk
            continue
        drop.append(pk)
        if verified:
            verify.add(kept[key])
        if do_not_contact:
            blocked.add(kept[key])
    if verify:
        ContactMethod.objects.filter(pk__in=list(verify)).update(is_verified=True)
    if blocked:
        ContactMethod.objects.filter(pk__in=list(blocked)).update(do_not_contact=True)
    if drop:
        ContactMethod.objects.filter(pk__in=drop).delete()
    return len(drop)


def _dedupe_relationships(survivor: Customer) -> int:
    """Relationships that say the same thing twice once both records are one (or link it to itself)."""
    seen: set[tuple[Any, ...]] = set()
    drop = []
    rows = (
        Relationship.objects.filter(models.Q(customer=survivor) | models.Q(related_customer=survivor))
        .order_by("created_at", "pk")
        .values_list("pk", "customer_id", "related_customer_id", "partner_id", "kind")
    )
    for pk, customer_id, related_id, partner_id, kind in rows:
        key = (customer_id, related_id, partner_id, kind)
        if customer_id == related_id or key in seen:
            drop.append(pk)
        seen.add(key)
    if drop:
        Relationship.objects.filter(pk__in=drop).delete()
    return len(drop)


def _resolve_sides(survivor: Customer, loser: Customer, choices: Mapping[str, str] | None) -> dict[str, Side]:
    choices = dict(choices or {})
    unknown = set(choices) - set(RULES_BY_FIELD)
    if unknown:
        raise ValidationError(
            _("These fields cannot be merged: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    if any(side not in SIDES for side in choices.values()):
        raise ValidationError(_("Choose the value of one of the two records."))
    sides = {**default_sides(survivor, loser), **choices}
    undecided = {
        name: _("Choose which value to keep: neither record says when it was given.")
        for name, side in sides.items()
        if side is None
    }
    if undecided:
        raise ValidationError(undecided)
    return cast(dict[str, Side], sides)


@atomic
def customer_merge(
    *,
    survivor: Customer,
    loser: Customer,
    choices: Mapping[str, str] | None = None,
    by: Any = None,
) -> CustomerMerge:
    """Merge ``loser`` into ``survivor``.

    Each field takes its rule's default value (``customers/merge_rules.py``) unless ``choices`` names
    the side ("survivor" or "loser") to keep; a field with no default (consent given on one record and
    refused on the other, neither with a date) must be chosen. The survivor keeps the earlier creation
    date, both notes and both sets of custom fields; the loser's external id moves over when the survivor
    has none.
    """
    if survivor.pk == loser.pk:
        raise ValidationError(_("Choose two different customers to merge."))
    if by is not None and not merge_allowed(user=by, customers=[survivor, loser]):
        raise PermissionDenied(_("Only a manager or the owner of both customers can merge them."))
    sides = _resolve_sides(survivor, loser, choices)
    snapshot = _snapshot(loser)
    taken = [
        name
        for name, side in sides.items()
        if side == "loser" and differs(survivor, loser, RULES_BY_FIELD[name])
    ]
    for name in taken:
        rule = RULES_BY_FIELD[name]
        for field in (rule.field, *rule.carries):
            attname = f"{field}_id" if field == "owner" else field
            setattr(survivor, attname, getattr(loser, attname))
    survivor.attributes = {**(loser.attributes or {}), **(survivor.attributes or {})}
    survivor.notes = combined_notes(survivor.notes, loser.notes)
    if loser.created_at and (survivor.created_at is None or loser.created_at < survivor.created_at):
        survivor.created_at = loser.created_at
    loser_external_id = loser.external_id
    duplicates_removed = _dedupe_contact_methods(survivor, loser)
    moved = _move_related(loser, survivor)
    moved["customers.ContactMethod (same value, removed)"] = duplicates_removed
    moved["customers.Relationship (repeated, removed)"] = _dedupe_relationships(survivor)
    customer_defaults_enforce(customer=survivor)  # the survivor's oldest default and primaries stay
    merge = CustomerMerge(
        survivor=survivor,
        survivor_name=survivor.name,
        merged_customer_id=loser.pk,
        merged_customer_name=loser.name,
        merged_by=by,
        snapshot=snapshot,
        chosen_fields=taken,
        moved=moved,
    )
    merge.full_clean()
    merge.save()
    # Rows moved by UPDATE fire no signal: the merge entry names the loser and what moved (the
    # survivor's changed fields and the loser's deletion are recorded by their own saves).
    audit.record(
        action=audit.AuditEntry.Action.MERGE,
        instance=survivor,
        actor=by,
        changes={"merged_customer": [f"{loser.name} ({loser.pk})", None], "moved": [None, moved]},
        extra={"merge": str(merge.pk), "chosen_fields": taken},
    )
    loser_pk = loser.pk
    loser.delete()
    if loser_external_id and not survivor.external_id:
        survivor.external_id = loser_external_id
    survivor.full_clean()
    survivor.save()  # created_at is auto_now_add: an update keeps the value set above
    # The loser's ledger rows moved with the other foreign keys; the current answers follow the newest
    # record per purpose (when the ledger has marketing rows, the summary fields follow it too).
    from customers.services.consent import consent_states_recompute

    consent_states_recompute(customer=survivor)
    survivor.refresh_from_db(
        fields=["marketing_consent", "consent_changed_at", "consent_channel", "consent_note"]
    )
    survivor_pk = survivor.pk
    on_commit(
        lambda: customer_activity.send(sender=Customer, customer_ids=[survivor_pk], merged_ids=[loser_pk])
    )
    return merge


def _display(customer: Customer, rule: MergeRule) -> str:
    """A field's value as the merge screen shows it."""
    name = rule.field
    if name == "marketing_consent":
        answer = _("Yes") if customer.marketing_consent else _("No")
        if not customer.consent_changed_at:
            return _("%(answer)s (never recorded)") % {"answer": answer}
        date = formats.date_format(timezone.localtime(customer.consent_changed_at), "SHORT_DATE_FORMAT")
        if customer.consent_channel:
            channel = customer.get_consent_channel_display()
            return _("%(answer)s (%(date)s, %(channel)s)") % {
                "answer": answer,
                "date": date,
                "channel": channel,
            }
        return _("%(answer)s (%(date)s)") % {"answer": answer, "date": date}
    if name == "owner":
        owner = customer.owner
        return (owner.get_full_name() or owner.get_username()) if owner else "—"
    display = getattr(customer, f"get_{name}_display", None)
    value = display() if display else getattr(customer, name)
    if value in (None, ""):
        return "—"
    return formats.localize(value) if not isinstance(value, str) else value


def merge_field_rows(survivor: Customer, loser: Customer) -> list[dict[str, Any]]:
    """For the merge screen: each rule's field with both values, the default side and its reason."""
    defaults = default_sides(survivor, loser)
    rows = []
    for rule in MERGE_RULES:
        field = cast(models.Field, Customer._meta.get_field(rule.field))
        rows.append(
            {
                "name": rule.field,
                "label": field.verbose_name,
                "reason": rule.reason,
                "survivor": _display(survivor, rule),
                "loser": _display(loser, rule),
                "default": defaults[rule.field],
                "differs": differs(survivor, loser, rule),
            }
        )
    return rows


def merge_preview(
    survivor: Customer, loser: Customer, choices: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """What the survivor will hold, field by field, for the sides in ``choices`` (defaults elsewhere)."""
    defaults = default_sides(survivor, loser)
    rows = []
    for row in merge_field_rows(survivor, loser):
        if not row["differs"] and row["survivor"] == "—":
            continue  # empty on both records: nothing to preview
        side = choices.get(row["name"]) or defaults[row["name"]]
        rows.append(
            {
                "label": row["label"],
                "value": row[side] if side else None,
                "from_loser": side == "loser" and row["differs"],
                "reason": row["reason"],
            }
        )
    created = min(value for value in (survivor.created_at, loser.created_at) if value)
    rows.append(
        {
            "label": Customer._meta.get_field("created_at").verbose_name,
            "value": formats.date_format(timezone.localtime(created), "SHORT_DATE_FORMAT"),
            "from_loser": bool(loser.created_at and loser.created_at < survivor.created_at),
            "reason": FIXED_REASONS["created_at"],
        }
    )
    return rows
