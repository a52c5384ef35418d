"""Reading and checking import files row by row (streamed: 100,000 rows never sit in memory at once)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import validate_email
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_site.uploads import UploadError, csv_rows, xlsx_rows
from crm_site.visibility import sees_everything
from customers.models import Address, ConsentPurpose, ContactMethod, Customer, CustomFieldDefinition, Tag
from customers.normalize import normalize_phone

# target -> label; "cf_<key>" targets are added for custom fields.
TARGETS: dict[str, Any] = {
    "external_id": gettext_lazy("External id"),
    "name": gettext_lazy("Name"),
    "kind": gettext_lazy("Kind (person/company)"),
    "gender": gettext_lazy("Gender"),
    "birth_date": gettext_lazy("Birth date (YYYY-MM-DD)"),
    "company_name": gettext_lazy("Company name"),
    "job_title": gettext_lazy("Job title"),
    "industry": gettext_lazy("Industry"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
    "source": gettext_lazy("Source"),
    "owner": gettext_lazy("Owner (username)"),
    "marketing_consent": gettext_lazy("Marketing consent (yes/no)"),
    "notes": gettext_lazy("Notes"),
    "mobile": gettext_lazy("Mobile"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("Email"),
    "wechat": gettext_lazy("WeChat"),
    "province": gettext_lazy("Province"),
    "city": gettext_lazy("City"),
    "district": gettext_lazy("District"),
    "street": gettext_lazy("Street"),
    "postal_code": gettext_lazy("Postal code"),
    "tags": gettext_lazy("Tags (comma separated)"),
}
# Optional yes/no columns per consent purpose (consent_profiling, consent_marketing_sms, ...): written to
# the consent ledger with source "import" (customers.services.imports._write_consents).
CONSENT_PREFIX = "consent_"
CONSENT_TARGETS: dict[str, str] = {f"{CONSENT_PREFIX}{purpose}": purpose for purpose in ConsentPurpose.values}
CONSENT_LABEL = gettext_lazy("Consent: {purpose} (yes/no)")
TARGETS.update(
    {
        target: format_lazy(CONSENT_LABEL, purpose=ConsentPurpose(purpose).label)
        for target, purpose in CONSENT_TARGETS.items()
    }
)
CHOICE_TARGETS = {
    "kind": Customer.Kind,
    "gender": Customer.Gender,
    "lifecycle_stage": Customer.LifecycleStage,
    "source": Customer.Source,
}
CONTACT_TARGETS = ("mobile", "phone", "email", "wechat")
ADDRESS_TARGETS = ("province", "city", "district", "street", "postal_code")
MAX_ERRORS_KEPT = 10_000
NOTES_LIMIT = 10_000  # a TextField has no max_length; this keeps one row from holding a novel


def _field_limits() -> dict[str, int]:
    """target -> the max_length of the model field it is stored in (SQLite does not enforce it)."""
    limits: dict[str, int] = {}
    for target in TARGETS:
        field: Any
        if target in CONTACT_TARGETS:
            field = ContactMethod._meta.get_field("value")
        elif target in ADDRESS_TARGETS:
            field = Address._meta.get_field(target)
        elif target == "tags":
            field = Tag._meta.get_field("name")
        else:
            try:
                field = Customer._meta.get_field(target)
            except FieldDoesNotExist:
                continue
        max_length = getattr(field, "max_length", None)
        if max_length:
            limits[target] = int(max_length)
    limits["notes"] = NOTES_LIMIT
    return limits


FIELD_LIMITS = _field_limits()


def _too_long(value: str, target: str) -> ValidationError | None:
    limit = FIELD_LIMITS.get(target)
    if limit is not None and len(value) > limit:
        return ValidationError(_("Longer than %(limit)s characters.") % {"limit": limit})
    return None


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return value


def iter_rows(path: str, file_format: str, encoding: str) -> Iterator[tuple[int, list[Any]]]:
    """(spreadsheet row number, cells) for every row including the header (row 1)."""
    rows: Iterator[Sequence[Any]] = xlsx_rows(path) if file_format == "xlsx" else csv_rows(path, encoding)
    for number, row in enumerate(rows, start=1):
        yield number, [_cell(value) for value in row]


def read_headers(path: str, file_format: str, encoding: str) -> list[str]:
    """The header row; UploadError when the file is unreadable or has no header."""
    for _number, cells in iter_rows(path, file_format, encoding):
        headers = [str(cell) for cell in cells]
        if not any(headers):
            break
        if len(headers) > 200 or any(len(header) > 200 for header in headers):
            raise UploadError(_("The first row does not look like column names."))
        duplicates = duplicate_headers(headers)
        if duplicates:
            raise UploadError(
                _("Column names must be unique; the header row repeats: %(names)s.")
                % {"names": ", ".join(duplicates)}
            )
        return headers
    raise UploadError(_("The file is empty: it needs a header row and at least one customer."))


def duplicate_headers(headers: list[str]) -> list[str]:
    """Header names that occur more than once (ignoring case and blank columns), in file order."""
    seen: set[str] = set()
    repeated: list[str] = []
    for header in headers:
        key = str(header).strip().casefold()
        if not key:
            continue
        if key in seen and header not in repeated:
            repeated.append(header)
        seen.add(key)
    return repeated


def guess_mapping(headers: list[str], targets: dict[str, Any]) -> dict[str, str]:
    """target -> column name, where a column is named like the target (in English or its label)."""
    mapping = {}
    lowered = {header.strip().lower(): header for header in headers}
    for target, label in targets.items():
        for candidate in (target, str(label).lower(), target.replace("_", " ")):
            if candidate.lower() in lowered:
                mapping[target] = lowered[candidate.lower()]
                break
    return mapping


def _parse_bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "是", "同意"}:
        return True
    if text in {"0", "false", "no", "n", "否", "", "不同意"}:
        return False
    raise ValidationError(_("%(value)s is not yes or no.") % {"value": value})


def _parse_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"):
        try:
            parsed = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if parsed > datetime.date.today():
            raise ValidationError(_("%(value)s is in the future.") % {"value": text})
        return parsed
    raise ValidationError(_("%(value)s is not a date (use YYYY-MM-DD).") % {"value": text})


def _parse_choice(target: str, value: Any) -> str:
    choices = CHOICE_TARGETS[target]
    text = str(value).strip().lower()
    for choice_value, choice_label in choices.choices:
        if text in (choice_value, str(choice_label).lower()):
            return choice_value
    raise ValidationError(
        _("%(value)s is not one of: %(allowed)s.") % {"value": value, "allowed": ", ".join(choices.values)}
    )


class RowChecker:
    """Turns a mapped row into clean values, or a list of (field, reason) problems.

    ``user`` is the importer: only managers may name another owner; a sales user's ``owner`` cell may
    only name themselves (any other name is a row error, the same one whether the user exists or not).
    """

    def __init__(self, *, headers: list[str], mapping: dict[str, str], user: Any) -> None:
        self.user = user
        self.is_manager = sees_everything(user)
        self.owners = _active_users() if self.is_manager else {}
        self.definitions = {d.key: d for d in CustomFieldDefinition.objects.filter(is_active=True)}
        positions = {header: index for index, header in enumerate(headers)}
        self.columns = {
            target: positions[column] for target, column in mapping.items() if column in positions
        }
        self.seen_external_ids: dict[str, int] = {}

    def check(self, number: int, cells: list[Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        raw = {target: (cells[index] if index < len(cells) else "") for target, index in self.columns.items()}
        values: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []

        def fail(field: str, message: Any) -> None:
            problems.append((field, str(message)))

        name = str(raw.get("name", "")).strip()
        if not name:
            fail("name", _("A name is required."))
        elif error := _too_long(name, "name"):
            fail("name", " ".join(error.messages))
        values["name"] = name
        external_id = str(raw.get("external_id", "")).strip()
        if external_id:
            if error := _too_long(external_id, "external_id"):
                fail("external_id", " ".join(error.messages))
            elif external_id in self.seen_external_ids:
                fail(
                    "external_id",
                    _("Duplicate external id %(id)s (also on row %(row)s).")
                    % {"id": external_id, "row": self.seen_external_ids[external_id]},
                )
            else:
                self.seen_external_ids[external_id] = number
        values["external_id"] = external_id or None
        for target, value in raw.items():
            if target in ("name", "external_id") or target.startswith("cf_") or value in ("", None):
                continue  # custom fields are checked against their definitions below
            try:
                values[target] = self._value(target, value)
            except ValidationError as exc:
                fail(target, " ".join(exc.messages))
        for key, definition in self.definitions.items():
            target = f"cf_{key}"
            if target not in self.columns and not definition.required:
                continue
            try:
                values[target] = definition.to_json(raw.get(target))
            except ValidationError as exc:
                fail(target, " ".join(exc.messages))
        return values, problems

    def _owner(self, value: Any) -> Any:
        username = str(value).strip()
        if not self.is_manager:
            if username != self.user.get_username():
                raise ValidationError(
                    _(
                        "Only managers can import customers for another owner; leave it empty or "
                        "give your own username."
                    )
                )
            return self.user
        if username not in self.owners:
            raise ValidationError(_("Unknown owner %(name)s.") % {"name": username})
        return self.owners[username]

    def _value(self, target: str, value: Any) -> Any:
        if target in CHOICE_TARGETS:
            return _parse_choice(target, value)
        if target == "birth_date":
            return _parse_date(value)
        if target == "marketing_consent" or target in CONSENT_TARGETS:
            return _parse_bool(value)
        if target == "owner":
            return self._owner(value)
        if target == "tags":
            tags = [tag.strip() for tag in str(value).split(",") if tag.strip()]
            for tag in tags:
                if error := _too_long(tag, "tags"):
                    raise error
            return tags
        text = str(value).strip()
        if error := _too_long(text, target):
            raise error
        if target == "email":
            try:
                validate_email(text)
            except ValidationError:
                raise ValidationError(
                    _("%(value)s is not a valid email address.") % {"value": text}
                ) from None
        elif target in ("mobile", "phone"):
            if not 5 <= len(normalize_phone(text)) <= 15:
                raise ValidationError(
                    _("%(value)s is not a phone number (5 to 15 digits).") % {"value": text}
                )
        return text


def _active_users() -> dict[str, Any]:
    """username -> user for every active user: who a manager may name as owner (inactive = unknown)."""
    return {user.get_username(): user for user in get_user_model().objects.filter(is_active=True)}
