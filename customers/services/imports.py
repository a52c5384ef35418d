"""Customer import: upload, map columns, dry run (every invalid row listed), then all-or-nothing commit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.utils.translation import gettext as _

from crm_site.audit import trail as audit
from crm_site.db import atomic, on_commit
from crm_site.uploads import UploadError, import_format
from crm_site.visibility import sees_everything
from customers.importing import (
    ADDRESS_TARGETS,
    CONSENT_TARGETS,
    CONTACT_TARGETS,
    MAX_ERRORS_KEPT,
    TARGETS,
    RowChecker,
    iter_rows,
    read_headers,
)
from customers.masking import mask_contact
from customers.models import Address, ContactMethod, Customer, CustomerImport, CustomerTag, Tag
from customers.selectors import custom_field_definitions, customer_ids_by_external_id

CHUNK = 1000
Status = CustomerImport.Status


def customer_import_create(*, upload: UploadedFile, encoding: str, user: Any) -> CustomerImport:
    """Store the uploaded file and read its header row; ValidationError when the file is unusable."""
    name = upload.name or "upload"
    try:
        # CSV or XLSX by the file's bytes, whatever its name says; over CRM_IMPORT_MAX_BYTES refused.
        extension = import_format(upload)
    except UploadError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    job = CustomerImport(created_by=user, original_name=name[:255], file_format=extension, encoding=encoding)
    job.file.save(f"{job.pk}.{extension}", upload, save=False)
    try:
        job.headers = read_headers(job.file.path, extension, encoding)
        with atomic():
            job.full_clean()
            job.save()
    except UploadError as exc:
        job.file.delete(save=False)
        raise ValidationError({"file": str(exc)}) from exc
    except BaseException:
        job.file.delete(save=False)  # a refused upload leaves nothing on disk
        raise
    return job


CheckedRow = tuple[int, dict[str, Any], list[tuple[str, str]], Any]


def _checked_rows(job: CustomerImport, checker: RowChecker) -> Iterator[CheckedRow]:
    """(row number, values, problems, pk of the customer it updates or None), matched a chunk at a time."""
    rows = iter_rows(job.file.path, job.file_format, job.encoding)
    next(rows, None)  # header
    chunk: list[tuple[int, dict[str, Any], list[tuple[str, str]]]] = []
    for number, cells in rows:
        if not any(cell not in ("", None) for cell in cells):
            continue  # blank lines are not customers
        values, problems = checker.check(number, cells)
        chunk.append((number, values, problems))
        if len(chunk) >= CHUNK:
            yield from _match(chunk, checker.user)
            chunk = []
    yield from _match(chunk, checker.user)


def _match(chunk: list[tuple[int, dict[str, Any], list[tuple[str, str]]]], user: Any) -> Iterator[CheckedRow]:
    """Match rows to existing customers by external id, among the customers ``user`` can see only.

    External ids are unique across all customers, so an id held by a customer the importer cannot see
    can be neither updated nor reused: that row is an error whose message says only that the value
    cannot be used (never whose it is, nor that it exists).
    """
    found = customer_ids_by_external_id(
        values["external_id"] for _n, values, _p in chunk if values["external_id"]
    )
    visible_owner = dict(
        Customer.objects.visible_to(user).filter(pk__in=list(found.values())).values_list("pk", "owner_id")
    )
    manager = sees_everything(user)
    refused = _suppressed_rows(chunk, found)
    for number, values, problems in chunk:
        problems.extend(refused.get(number, []))
        customer_id = found.get(values["external_id"] or "")
        if customer_id is not None and customer_id not in visible_owner:
            problems.append(("external_id", str(_("This value cannot be used."))))
            customer_id = None
        elif customer_id is not None and not manager and "owner" in values:
            if visible_owner[customer_id] != user.pk:
                # As on the edit form: sales staff may update a customer shared with them, not take it over.
                problems.append(("owner", str(_("Only managers can change the owner of a customer."))))
        yield number, values, problems, customer_id


def _suppressed_rows(
    chunk: list[tuple[int, dict[str, Any], list[tuple[str, str]]]], found: dict[str, Any]
) -> dict[int, list[tuple[str, str]]]:
    """Row number -> (field, message) for the rows whose values belong to an erased person: a new
    customer's phone, email or external id, or a phone or email added to a customer that is matched."""
    from customers.selectors.privacy import Kind, suppressed_many

    every = [(number, values) for number, values, _p in chunk]
    created = [(number, values) for number, values in every if (values["external_id"] or "") not in found]
    columns = {
        "mobile": Kind.PHONE,
        "phone": Kind.PHONE,
        "email": Kind.EMAIL,
        "external_id": Kind.EXTERNAL_ID,
    }
    refused: dict[int, list[tuple[str, str]]] = {}
    for column, kind in columns.items():
        rows = created if column == "external_id" else every
        hits = suppressed_many(kind, {values.get(column) for _n, values in rows if values.get(column)})
        for number, values in rows:
            if values.get(column) in hits:
                refused.setdefault(number, []).append((column, str(_("This value cannot be used."))))
    return refused


def _importer(job: CustomerImport) -> Any:
    """The user the import runs as; ValidationError when they are gone or deactivated."""
    user = job.created_by
    if user is None or not user.is_active:
        raise ValidationError(_("The user who uploaded this import is no longer active."))
    return user


@atomic
def customer_import_set_mapping(*, job: CustomerImport, mapping: dict[str, str]) -> CustomerImport:
    """Save which column feeds which field; the name column is mandatory."""
    mapping = {target: column for target, column in mapping.items() if column}
    if "name" not in mapping:
        raise ValidationError({"name": _("Choose the column that holds the customer name.")})
    targets = set(TARGETS) | {f"cf_{definition.key}" for definition in custom_field_definitions()}
    bad_targets = set(mapping) - targets
    if bad_targets:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(bad_targets))})
    unknown = set(mapping.values()) - set(job.headers)
    if unknown:
        raise ValidationError(_("Unknown columns: %(columns)s") % {"columns": ", ".join(sorted(unknown))})
    job.mapping = mapping
    job.status = Status.VALIDATING
    job.errors, job.error_count, job.processed_rows, job.message = [], 0, 0, ""
    job.save()
    return job


def customer_import_validate(*, job: CustomerImport) -> CustomerImport:
    """The dry run: check every row, count creates/updates, record each invalid row; writes no customer."""
    errors: list[dict[str, Any]] = []
    error_count = total = to_update = 0
    try:
        checker = RowChecker(headers=job.headers, mapping=job.mapping, user=_importer(job))
        for number, _values, problems, customer_id in _checked_rows(job, checker):
            total += 1
            if problems:
                error_count += 1
                for field, message in problems:
                    if len(errors) < MAX_ERRORS_KEPT:
                        errors.append({"row": number, "field": field, "message": message})
            elif customer_id is not None:
                to_update += 1
            if total % 5000 == 0:
                CustomerImport.objects.filter(pk=job.pk).update(processed_rows=total)
    except (UploadError, ValidationError) as exc:
        job.status, job.message = Status.FAILED, " ".join(getattr(exc, "messages", [str(exc)]))
        job.save()
        return job
    job.total_rows = job.processed_rows = total
    job.errors, job.error_count = errors, error_count
    job.to_update, job.to_create = to_update, total - error_count - to_update
    if total == 0:
        job.status, job.message = Status.FAILED, _("The file is empty: it has a header row but no customers.")
    else:
        job.status = Status.INVALID if error_count else Status.VALID
    job.save()
    return job


def _publish_progress(job: CustomerImport, done: int) -> None:
    """Progress of a commit, published outside its transaction.

    The commit is one transaction (all rows or none), so a progress column updated inside it stays
    invisible to the page that polls it until the very end, and on SQLite a second connection could not
    write while the import holds the write lock. The cache is outside every transaction: the import page
    reads it while the job is importing. Live progress across processes (web + Celery worker) needs a
    shared cache such as Redis; with the default per-process cache the page shows an indeterminate bar.
    """
    cache.set(job.progress_key, done, timeout=24 * 3600)


def customer_import_commit(*, job: CustomerImport) -> CustomerImport:
    """Write every row, or none: any invalid row (or failure) rolls the whole import back."""
    if job.status != Status.VALID:
        raise ValidationError(_("Only a checked import without invalid rows can be imported."))
    job.status = Status.IMPORTING
    job.save()
    created = updated = 0
    try:
        checker = RowChecker(headers=job.headers, mapping=job.mapping, user=_importer(job))
        with atomic():
            batch: list[tuple[dict[str, Any], Any]] = []
            for number, values, problems, customer_id in _checked_rows(job, checker):
                if problems:
                    field, message = problems[0]
                    raise ValidationError(
                        _("Row %(row)s, %(field)s: %(message)s")
                        % {"row": number, "field": field, "message": message}
                    )
                batch.append((values, customer_id))
                if len(batch) >= CHUNK:
                    c, u = _write_batch(batch, job)
                    created, updated, batch = created + c, updated + u, []
                    _publish_progress(job, created + updated)
            if batch:
                c, u = _write_batch(batch, job)
                created, updated = created + c, updated + u
    except (ValidationError, UploadError) as exc:
        job.status, job.message = Status.FAILED, " ".join(getattr(exc, "messages", [str(exc)]))
        job.save()
        return job
    except IntegrityError:
        # Another user took an external id between the check and the write: nothing was written.
        job.status = Status.FAILED
        job.message = _("The customers changed while importing; nothing was imported. Check the file again.")
        job.save()
        return job
    cache.delete(job.progress_key)
    job.status = Status.DONE
    job.to_create, job.to_update, job.processed_rows = created, updated, created + updated
    job.message = _("%(created)s customers created, %(updated)s updated.") % {
        "created": created,
        "updated": updated,
    }
    job.save()
    return job


CUSTOMER_TARGETS = (
    "name",
    "kind",
    "gender",
    "birth_date",
    "company_name",
    "job_title",
    "industry",
    "lifecycle_stage",
    "source",
    "owner",
    "marketing_consent",
    "notes",
)


def _write_batch(batch: list[tuple[dict[str, Any], Any]], job: CustomerImport) -> tuple[int, int]:
    """Create or update one chunk of rows with a fixed number of queries.

    ``batch`` holds (values, pk of the visible customer it updates or None), as matched by ``_match``.
    """
    existing = Customer.objects.in_bulk([customer_id for _values, customer_id in batch if customer_id])
    new_customers: list[Customer] = []
    changed: list[Customer] = []
    pairs: list[tuple[Customer, dict[str, Any]]] = []
    changed_fields: set[str] = set()
    before: dict[Any, dict[str, Any]] = {}
    for values, customer_id in batch:
        customer = (
            existing[customer_id]
            if customer_id
            else Customer(
                external_id=values.get("external_id"), owner=job.created_by, source=Customer.Source.IMPORT
            )
        )
        before[customer.pk] = audit.values_of(customer) if customer_id else {}
        for target in CUSTOMER_TARGETS:
            if target in values:
                setattr(customer, target, values[target])
                changed_fields.add(target)
        custom = {
            key[3:]: value for key, value in values.items() if key.startswith("cf_") and value is not None
        }
        if custom:
            customer.attributes = {**(customer.attributes or {}), **custom}
            changed_fields.add("attributes")
        if values.get("marketing_consent") is not None and "marketing_consent" in values:
            customer.consent_channel = Customer.ConsentChannel.IMPORT
            customer.consent_changed_at = job.created_at
            changed_fields.update({"consent_channel", "consent_changed_at"})
        (changed if customer_id else new_customers).append(customer)
        pairs.append((customer, values))
    Customer.objects.bulk_create(new_customers, batch_size=CHUNK)
    if changed and changed_fields:
        Customer.objects.bulk_update(changed, [*sorted(changed_fields), "updated_at"], batch_size=CHUNK)
    contacts = _write_children(pairs)
    _write_consents(pairs, job)
    _audit_batch(job, [customer for customer, _values in pairs], before, contacts)
    return len(new_customers), len(changed)


def _write_consents(pairs: list[tuple[Customer, dict[str, Any]]], job: CustomerImport) -> None:
    """The consent columns as ledger records (source "import", dated when the file was uploaded), so
    the import's answers have their place in the consent history: ``marketing_consent`` as email
    marketing, each ``consent_<purpose>`` column (yes/no) as that purpose."""
    from customers.models import ConsentPurpose, ConsentSource
    from customers.services.consent import consent_record_many

    entries: list[dict[str, Any]] = []
    for customer, values in pairs:
        answers: dict[str, bool] = {}
        if values.get("marketing_consent") is not None:
            answers[ConsentPurpose.MARKETING_EMAIL] = bool(values["marketing_consent"])
        for target, purpose in CONSENT_TARGETS.items():
            if values.get(target) is not None:
                answers[purpose] = bool(values[target])  # the purpose's own column wins
        entries.extend(
            {
                "customer_id": customer.pk,
                "purpose": purpose,
                "granted": granted,
                "source": ConsentSource.IMPORT,
                "recorded_at": job.created_at,
                "note": job.original_name[:255],
            }
            for purpose, granted in answers.items()
        )
    if entries:
        consent_record_many(entries=entries, by=job.created_by)


def _audit_batch(
    job: CustomerImport,
    customers: list[Customer],
    before: dict[Any, dict[str, Any]],
    contacts: list[ContactMethod],
) -> None:
    """One audit entry per imported row (bulk writes fire no signals): what the row set on the customer
    and, for an updated one, what it was; the contact methods it added ride along as ``contact:<kind>``."""
    who = audit.who_as(job.created_by, via="import")
    extra = {"import": str(job.pk), "file": job.original_name[:100]}
    added: dict[Any, dict[str, list[Any]]] = {}
    for contact in contacts:
        # Masked like every encrypted value in the trail (issue 13).
        masked = mask_contact(contact.kind, contact.value)
        added.setdefault(contact.customer_id, {})[f"contact:{contact.kind}"] = [None, masked]
    entries = []
    for customer in customers:
        old = before.get(customer.pk)
        changes = audit.diff(old, audit.values_of(customer)) if old else audit.created_changes(customer)
        changes.update(added.get(customer.pk, {}))
        if changes:
            action = audit.AuditEntry.Action.IMPORT
            entries.append(
                audit.build(action=action, instance=customer, changes=changes, extra=extra, who=who)
            )
    audit.record_many(entries)


def _write_children(pairs: list[tuple[Customer, dict[str, Any]]]) -> list[ContactMethod]:
    ids = [customer.pk for customer, _values in pairs]
    known = set(ContactMethod.objects.filter(customer_id__in=ids).values_list("customer_id", "value_hash"))
    has_address = set(Address.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True))
    contacts, addresses, links = [], [], []
    tag_names = {name for _c, values in pairs for name in values.get("tags", [])}
    tags = {tag.name: tag for tag in Tag.objects.filter(name__in=tag_names)}
    missing = [Tag(name=name) for name in tag_names if name not in tags]
    Tag.objects.bulk_create(missing)
    tags.update({tag.name: tag for tag in missing})
    linked = set(CustomerTag.objects.filter(customer_id__in=ids).values_list("customer_id", "tag_id"))
    for customer, values in pairs:
        for kind in CONTACT_TARGETS:
            if values.get(kind):
                contact = ContactMethod(customer=customer, kind=kind, value=values[kind])
                contact.set_match_keys()  # bulk_create does not call save()
                if (customer.pk, contact.value_hash) not in known:
                    known.add((customer.pk, contact.value_hash))
                    contacts.append(contact)
        if any(values.get(part) for part in ADDRESS_TARGETS) and customer.pk not in has_address:
            has_address.add(customer.pk)
            addresses.append(
                Address(
                    customer=customer,
                    is_default=True,
                    **{part: values.get(part, "") for part in ADDRESS_TARGETS},
                )
            )
        for name in values.get("tags", []):
            if (customer.pk, tags[name].pk) not in linked:
                linked.add((customer.pk, tags[name].pk))
                links.append(CustomerTag(customer=customer, tag=tags[name]))
    ContactMethod.objects.bulk_create(contacts, batch_size=CHUNK)
    Address.objects.bulk_create(addresses, batch_size=CHUNK)
    CustomerTag.objects.bulk_create(links, batch_size=CHUNK)
    return contacts


def customer_import_schedule(*, job: CustomerImport, step: str) -> None:
    """Run the dry run or the commit as a Celery task once the current transaction commits."""
    from customers.tasks import customer_import_commit_task, customer_import_validate_task

    task = customer_import_validate_task if step == "validate" else customer_import_commit_task
    job_id = str(job.pk)
    on_commit(lambda: task.delay(job_id))
