"""Create, change and delete customers and what hangs on them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.audit import trail as audit
from crm_site.db import atomic
from crm_site.services import UNCHANGED, Unchanged, given, model_create, model_update
from customers.models import (
    Address,
    ConsentPurpose,
    ConsentState,
    ContactMethod,
    Customer,
    CustomerTag,
    CustomFieldDefinition,
    Partner,
    PartnerContact,
    Relationship,
    Tag,
)
from customers.normalize import contact_grams, contact_hash, contact_tail, normalize_contact
from customers.services.consent import MARKETING_PURPOSES, consent_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CUSTOMER_FIELDS = {
    field.name
    for field in Customer._meta.get_fields()
    if getattr(field, "concrete", False)
    and not field.many_to_many
    and field.name not in {"id", "created_at", "updated_at"}
} | {"owner_id"}
CONTACT_FIELDS = [
    "kind",
    "value",
    "value_hash",
    "value_tail",
    "value_grams",
    "label",
    "is_primary",
    "is_verified",
    "do_not_contact",
]
ADDRESS_FIELDS = ["label", "country", "province", "city", "district", "street", "postal_code", "is_default"]
PARTNER_CONTACT_FIELDS = ["name", "job_title", "phone", "email"]
PARTNER_FIELDS = ["kind", "name", "owner", "website", "phone", "email", "city", "notes", "is_active"]


def custom_attributes_clean(values: dict[str, Any], *, existing: dict | None = None) -> dict[str, Any]:
    """Validate ``values`` against the active custom fields; ValidationError keyed ``cf_<key>``."""
    result = dict(existing or {})
    errors: dict[str, list[str]] = {}
    for definition in CustomFieldDefinition.objects.filter(is_active=True):
        if definition.key not in values and definition.key in result and not definition.required:
            continue
        try:
            value = definition.to_json(values.get(definition.key, result.get(definition.key)))
        except ValidationError as exc:
            errors[f"cf_{definition.key}"] = exc.messages
            continue
        if value is None:
            result.pop(definition.key, None)
        else:
            result[definition.key] = value
    if errors:
        raise ValidationError(errors)
    return result


@atomic
def customer_create(
    *,
    name: str,
    owner: Any,
    contact_methods: Iterable[dict] = (),
    addresses: Iterable[dict] = (),
    tags: Iterable[str] = (),
    **fields: Any,
) -> Customer:
    """A new customer with optional contact methods, addresses and tag names; all or nothing.

    ``fields`` are any of ``customer_update``'s keywords (a key that is not a customer field is a
    TypeError); the fields not given keep the model's defaults.
    """
    return customer_save(
        customer=None,
        fields={"name": name, "owner": owner, **fields},
        contact_methods=contact_methods,
        addresses=addresses,
        tags=list(tags) or None,
    )


@atomic
def customer_update(
    *,
    customer: Customer,
    kind: str | Unchanged = UNCHANGED,
    name: str | Unchanged = UNCHANGED,
    gender: str | Unchanged = UNCHANGED,
    birth_date: date | None | Unchanged = UNCHANGED,
    company_name: str | Unchanged = UNCHANGED,
    job_title: str | Unchanged = UNCHANGED,
    industry: str | Unchanged = UNCHANGED,
    company_size: int | None | Unchanged = UNCHANGED,
    website: str | Unchanged = UNCHANGED,
    tax_number: str | Unchanged = UNCHANGED,
    lifecycle_stage: str | Unchanged = UNCHANGED,
    source: str | Unchanged = UNCHANGED,
    owner: User | None | Unchanged = UNCHANGED,
    external_id: str | None | Unchanged = UNCHANGED,
    attributes: dict[str, Any] | Unchanged = UNCHANGED,
    notes: str | Unchanged = UNCHANGED,
    marketing_consent: bool | Unchanged = UNCHANGED,
    consent_changed_at: datetime | None | Unchanged = UNCHANGED,
    consent_channel: str | Unchanged = UNCHANGED,
    consent_note: str | Unchanged = UNCHANGED,
) -> Customer:
    """Change the given fields of a customer, validated as a whole."""
    data = given(
        kind=kind,
        name=name,
        gender=gender,
        birth_date=birth_date,
        company_name=company_name,
        job_title=job_title,
        industry=industry,
        company_size=company_size,
        website=website,
        tax_number=tax_number,
        lifecycle_stage=lifecycle_stage,
        source=source,
        owner=owner,
        external_id=external_id,
        attributes=attributes,
        notes=notes,
        marketing_consent=marketing_consent,
        consent_changed_at=consent_changed_at,
        consent_channel=consent_channel,
        consent_note=consent_note,
    )
    if isinstance(external_id, str) and external_id and external_id != customer.external_id:
        # An erased person's external id may not be given to another customer (issue 13 review).
        _refuse_suppressed({"external_id": external_id}, [])
    customer, _updated = model_update(instance=customer, fields=sorted(CUSTOMER_FIELDS), data=data)
    return customer


@atomic
def customer_save(
    *,
    customer: Customer | None,
    fields: dict[str, Any],
    contact_methods: Iterable[dict] = (),
    addresses: Iterable[dict] = (),
    tags: Iterable[str] | None = None,
    by: Any = None,
) -> Customer:
    """Create or update a customer together with its contact methods and addresses (the edit form).

    Each contact/address dict may carry ``id`` (update that row) and ``delete=True`` (remove it).
    The marketing consent checkbox (``marketing_consent``, ``consent_channel``, ``consent_note``) is
    written through the consent ledger (``customers.services.consent``), never set directly.
    """
    from customers.services.consent import marketing_form_write

    fields = dict(fields)
    consent = fields.pop("marketing_consent", None)
    channel = fields.pop("consent_channel", "") or ""
    note = fields.pop("consent_note", "") or ""
    fields.pop("consent_changed_at", None)
    if customer is None:
        contact_methods = list(contact_methods)
        _refuse_suppressed(fields, contact_methods)
        customer = model_create(model=Customer, fields=sorted(CUSTOMER_FIELDS), data=fields)
    else:
        # The stored row, not the form's instance (form validation already set the new values on it).
        customer = customer_update(customer=Customer.objects.get(pk=customer.pk), **fields)
    for data in contact_methods:
        contact_method_save(customer=customer, **data)
    for data in addresses:
        address_save(customer=customer, **data)
    if tags is not None:
        customer_set_tags(customer=customer, names=list(tags))
    if consent is not None:
        marketing_form_write(customer=customer, consent=bool(consent), channel=channel, note=note, by=by)
    return customer


def _refuse_suppressed_contact(
    customer: Customer, pk: Any, kind: str | Unchanged, value: str | Unchanged
) -> None:
    """A phone or email, new or changed (its value, or its kind made phone or email), may not bring an
    erased person back (issue 13 review: an edited row was not checked)."""
    current = (
        ContactMethod.objects.filter(customer=customer, pk=pk).values("kind", "value").first() if pk else None
    )
    was = (current["kind"], current["value"]) if current else (None, None)
    after = (kind if isinstance(kind, str) else was[0], value if isinstance(value, str) else was[1])
    if after != was and after[0] and after[1]:
        _refuse_suppressed({}, [{"kind": after[0], "value": after[1]}])


def _refuse_suppressed(fields: dict[str, Any], contact_methods: list[dict]) -> None:
    """A new customer or contact may not bring an erased person back (issue 13: the suppression list)."""
    from customers.selectors.privacy import suppression_refusals

    kinds: dict[Any, str] = {
        ContactMethod.Kind.EMAIL: "email",
        ContactMethod.Kind.PHONE: "phone",
        ContactMethod.Kind.MOBILE: "phone",
        ContactMethod.Kind.WECHAT: "handle",
        ContactMethod.Kind.QQ: "handle",
        ContactMethod.Kind.WEIBO: "handle",
    }
    values: dict[str, list[Any]] = {"phone": [], "email": [], "handle": []}
    for data in contact_methods:
        kind = kinds.get(data.get("kind"))
        if kind and not data.get("delete"):
            values[kind].append(data.get("value"))
    refusals = suppression_refusals(
        phones=values["phone"],
        emails=values["email"],
        external_id=fields.get("external_id") or "",
        id_number=fields.get("id_number") or "",
        handles=values["handle"],
    )
    if refusals:
        raise ValidationError([message for _field, message in refusals])


ChildT = TypeVar("ChildT", ContactMethod, Address)


def _child(model: type[ChildT], customer: Customer, pk: Any) -> ChildT | None:
    """The customer's stored row ``pk`` (ValidationError if it is another customer's); None for a new row."""
    if not pk:
        return None
    try:
        return model.objects.get(pk=pk, customer=customer)
    except model.DoesNotExist:
        raise ValidationError(_("That row does not belong to this customer.")) from None


def _child_save(
    model: type[ChildT],
    *,
    customer: Customer,
    pk: Any,
    delete: bool,
    fields: list[str],
    data: dict[str, Any],
    derive: Callable[[ChildT | None, dict[str, Any]], None],
) -> ChildT | None:
    """Add, change or delete one of the customer's contact methods or addresses, then keep one flagged.

    ``derive(row, data)`` adds what follows from the change to ``data`` (``row`` is None for a new one).
    """
    row = _child(model, customer, pk)
    if delete:
        if row is not None:
            row.delete()
        return None
    derive(row, data)
    if row is None:
        row = model_create(model=model, fields=["customer", *fields], data={"customer": customer, **data})
    else:
        row, _has_updated = model_update(instance=row, fields=fields, data=data)
    customer_defaults_enforce(customer=customer, winner=row)
    return row


def _contact_match_key(contact: ContactMethod | None, data: dict[str, Any]) -> None:
    """The match key is saved with the value it derives from (an update writes only the changed fields)."""
    if "kind" in data or "value" in data:
        kind = data.get("kind", contact.kind if contact else "")
        value = str(data.get("value", contact.value if contact else "") or "").strip()
        normalised = normalize_contact(kind, value)
        data["value_hash"] = contact_hash(normalised)
        data["value_tail"] = contact_tail(kind, normalised)
        data["value_grams"] = contact_grams(kind, normalised)


@atomic
def contact_method_save(
    *,
    customer: Customer,
    id: Any = None,
    delete: bool = False,
    kind: str | Unchanged = UNCHANGED,
    value: str | Unchanged = UNCHANGED,
    label: str | Unchanged = UNCHANGED,
    is_primary: bool | Unchanged = UNCHANGED,
    is_verified: bool | Unchanged = UNCHANGED,
    do_not_contact: bool | Unchanged = UNCHANGED,
) -> ContactMethod | None:
    """Add (no ``id``), change or (``delete=True``) remove one contact method; one primary per kind."""
    data = given(
        kind=kind,
        value=value,
        label=label,
        is_primary=is_primary,
        is_verified=is_verified,
        do_not_contact=do_not_contact,
    )
    if not delete:
        _refuse_suppressed_contact(customer, id, kind, value)
    return _child_save(
        ContactMethod,
        customer=customer,
        pk=id,
        delete=delete,
        fields=CONTACT_FIELDS,
        data=data,
        derive=_contact_match_key,
    )


@atomic
def address_save(
    *,
    customer: Customer,
    id: Any = None,
    delete: bool = False,
    label: str | Unchanged = UNCHANGED,
    country: str | Unchanged = UNCHANGED,
    province: str | Unchanged = UNCHANGED,
    city: str | Unchanged = UNCHANGED,
    district: str | Unchanged = UNCHANGED,
    street: str | Unchanged = UNCHANGED,
    postal_code: str | Unchanged = UNCHANGED,
    is_default: bool | Unchanged = UNCHANGED,
) -> Address | None:
    """Add, change or remove one address; exactly one default address when any is marked default."""

    def only_one_is_default(address: Address | None, data: dict[str, Any]) -> None:
        others = Address.objects.filter(customer=customer)
        if address is not None:
            others = others.exclude(pk=address.pk)
        if not data.get("is_default", address.is_default if address else False) and not others.exists():
            data["is_default"] = True  # the only address is the default one

    data = given(
        label=label,
        country=country,
        province=province,
        city=city,
        district=district,
        street=street,
        postal_code=postal_code,
        is_default=is_default,
    )
    return _child_save(
        Address,
        customer=customer,
        pk=id,
        delete=delete,
        fields=ADDRESS_FIELDS,
        data=data,
        derive=only_one_is_default,
    )


def customer_defaults_enforce(*, customer: Customer, winner: Address | ContactMethod | None = None) -> None:
    """One default address, one primary contact method per kind: ``winner`` keeps its flag, else the oldest.

    Called after saving an address or contact method (``winner``) and after a merge (no winner).
    """
    if winner is None or isinstance(winner, Address):
        addresses = Address.objects.filter(customer=customer, is_default=True)
        _keep_one_flagged(addresses, flag="is_default", group="customer_id", winner=winner)
    if winner is None or isinstance(winner, ContactMethod):
        primaries = ContactMethod.objects.filter(customer=customer, is_primary=True)
        if winner is not None:
            primaries = primaries.filter(kind=winner.kind)
        _keep_one_flagged(primaries, flag="is_primary", group="kind", winner=winner)


def _keep_one_flagged(flagged: QuerySet[Any], *, flag: str, group: str, winner: Any) -> None:
    """Clear ``flag`` on the rows of ``flagged`` but one per ``group``: the winner's, else the oldest."""
    kept: dict[Any, Any] = {}
    if winner is not None:
        if not getattr(winner, flag):
            return
        kept[getattr(winner, group)] = winner.pk
    rows = flagged.order_by("created_at", "pk").values_list("pk", group)
    losers = [pk for pk, key in rows if kept.setdefault(key, pk) != pk]
    if losers:  # by a materialised pk list: portable
        flagged.model.objects.filter(pk__in=losers).update(**{flag: False})


@atomic
def customer_delete(*, customer: Customer) -> None:
    """Delete a customer and (by cascade) its contact methods, addresses, shares and tags."""
    customer.delete()


@atomic
def customer_set_tags(*, customer: Customer, names: list[str]) -> list[Tag]:
    """Make the customer's tags exactly ``names`` (creating unknown tags)."""
    wanted = [name.strip()[:60] for name in names if name and name.strip()]
    tags = []
    for name in dict.fromkeys(wanted):
        tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    keep = {tag.pk for tag in tags}
    stale = list(
        CustomerTag.objects.filter(customer=customer).exclude(tag_id__in=keep).values_list("pk", flat=True)
    )
    CustomerTag.objects.filter(pk__in=stale).delete()
    have = set(CustomerTag.objects.filter(customer=customer).values_list("tag_id", flat=True))
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer=customer, tag=tag) for tag in tags if tag.pk not in have]
    )
    return tags


@atomic
def customer_assign_owner(*, customer_ids: Iterable[Any], owner: Any) -> int:
    """Hand customers to another owner (admin action, bulk reassignment)."""
    ids = list(customer_ids)
    before = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "owner_id"))
    changed = Customer.objects.filter(pk__in=ids).update(owner=owner, updated_at=timezone.now())
    who = audit.who()
    owner_id = None if owner is None else owner.pk
    audit.record_many(
        [
            audit.build(
                action=audit.AuditEntry.Action.UPDATE,
                model_label=Customer._meta.label,
                object_id=pk,
                customer_ref=pk,
                changes={"owner_id": [old, owner_id]},
                who=who,
            )
            for pk, old in before.items()
            if old != owner_id
        ]
    )
    return changed


@atomic
def customer_set_consent(
    *, customer: Customer, consent: bool, channel: str, note: str = "", at: Any = None, by: Any = None
) -> Customer:
    """Record that marketing consent was given or withdrawn, when and how: through the consent ledger
    (``customers.services.consent``), never around it. Given: email marketing granted; withdrawn: every
    marketing channel still granted (or email, when none is) withdrawn. ``channel`` is the source."""
    if channel not in Customer.ConsentChannel.values or not channel:
        raise ValidationError({"consent_channel": _("Say how the consent was given or withdrawn.")})
    purposes: list[str] = [ConsentPurpose.MARKETING_EMAIL]
    if not consent:
        purposes = (
            list(
                ConsentState.objects.filter(
                    customer=customer, purpose__in=MARKETING_PURPOSES, granted=True
                ).values_list("purpose", flat=True)
            )
            or purposes
        )
    for purpose in purposes:
        consent_record(
            customer=customer,
            purpose=purpose,
            granted=bool(consent),
            source=channel,
            note=note,
            recorded_at=at,
            by=by,
        )
    return customer


@atomic
def customers_bulk_create_minimal(*, rows: list[dict], owner: Any) -> dict[str, uuid.UUID]:
    """external_id -> pk for every row, creating customers (name, external_id) that do not exist yet.

    For imports in other apps (orders) that meet unknown customers; joins the caller's transaction.
    """
    from customers.selectors import customer_ids_by_external_id

    wanted: dict[str, str] = {}
    for index, row in enumerate(rows, start=1):
        external_id = str(row.get("external_id") or "").strip()
        if not external_id:
            raise ValidationError(_("Row %(row)s: external_id is required.") % {"row": index})
        wanted.setdefault(external_id, str(row.get("name") or "").strip() or external_id)
    found = customer_ids_by_external_id(wanted)
    new = {
        external_id: Customer(
            name=name[:200],
            external_id=external_id,
            owner=owner,
            source=Customer.Source.IMPORT,
        )
        for external_id, name in wanted.items()
        if external_id not in found
    }
    Customer.objects.bulk_create(new.values(), batch_size=1000)
    who = audit.who()
    action = audit.AuditEntry.Action.IMPORT
    audit.record_many(
        [
            audit.build(action=action, instance=customer, changes=audit.created_changes(customer), who=who)
            for customer in new.values()
        ]
    )
    found.update({external_id: customer.pk for external_id, customer in new.items()})
    return found


@atomic
def relationship_create(
    *,
    customer: Customer,
    kind: str,
    related_customer: Customer | None = None,
    partner: Partner | None = None,
    note: str = "",
) -> Relationship:
    relationship = Relationship(
        customer=customer, kind=kind, related_customer=related_customer, partner=partner, note=note
    )
    relationship.full_clean()
    same = Relationship.objects.filter(
        customer=customer, kind=kind, related_customer=related_customer, partner=partner
    )
    if same.exists():
        raise ValidationError(_("This relationship already exists."))
    relationship.save()
    return relationship


@atomic
def partner_save(
    *,
    partner: Partner | None = None,
    contacts: Iterable[dict] = (),
    kind: str | Unchanged = UNCHANGED,
    name: str | Unchanged = UNCHANGED,
    owner: User | None | Unchanged = UNCHANGED,
    website: str | Unchanged = UNCHANGED,
    phone: str | Unchanged = UNCHANGED,
    email: str | Unchanged = UNCHANGED,
    city: str | Unchanged = UNCHANGED,
    notes: str | Unchanged = UNCHANGED,
    is_active: bool | Unchanged = UNCHANGED,
) -> Partner:
    """Create (no ``partner``) or change a partner, and add its contacts."""
    data = given(
        kind=kind,
        name=name,
        owner=owner,
        website=website,
        phone=phone,
        email=email,
        city=city,
        notes=notes,
        is_active=is_active,
    )
    if partner is None:
        partner = model_create(model=Partner, fields=PARTNER_FIELDS, data=data)
    else:
        # The stored row, not the form's instance (form validation already set the new values on it).
        stored = Partner.objects.get(pk=partner.pk)
        partner, _has_updated = model_update(instance=stored, fields=PARTNER_FIELDS, data=data)
    for row in contacts:
        model_create(
            model=PartnerContact,
            fields=["partner", *PARTNER_CONTACT_FIELDS],
            data={"partner": partner, **row},
        )
    return partner
