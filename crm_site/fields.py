"""Model fields whose value is encrypted at rest (issue 13): ``EncryptedTextField``, ``EncryptedDateField``.

The database column holds a Fernet token (text) made with the first key of the
``CRM_FIELD_ENCRYPTION_KEYS`` ring (``crm_site.crypto.keyring``); Python code only ever sees the clear
value: ``from_db_value`` decrypts with every key of the ring, so rows written under an older key read
until ``manage.py rotate_keys`` has re-encrypted them. The same on SQLite, PostgreSQL and MongoDB: the
column is plain text everywhere.

- **No SQL over the value.** A token is random (the same value encrypts differently every time), so
  ``filter(street="...")``, ``icontains``, ``order_by`` on the value mean nothing: every lookup but
  ``isnull`` raises ``FieldError`` when the query is built, naming the field. Exact search goes through a
  blind index stored beside the value (``ContactMethod.value_hash``); anything else (age bands,
  demographics) reads the decrypted Python value.
- **An unreadable token never raises.** A token no key of the ring opens (a key dropped too early, a
  corrupted row) reads as an ``Unreadable`` marker: a ``str`` that shows ``UNREADABLE_TEXT`` and keeps the
  token, so a page shows the marker instead of a 500, the nightly job goes on, and saving the row writes
  the original token back unchanged (nothing is lost, a later key fix still reads it).
- Empty values are stored as ``""`` (text) / NULL (date) in clear: there is nothing to hide in "no value",
  and ``isnull`` / "has a birth date" stay cheap.
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from django.core.exceptions import FieldError
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.crypto import keyring

KEYS_SETTING = "CRM_FIELD_ENCRYPTION_KEYS"
KEYS_PURPOSE = "field-encryption"
UNREADABLE_TEXT = "[unreadable]"
ALLOWED_LOOKUPS = frozenset({"isnull"})


def field_ring() -> MultiFernet:
    """The ring every encrypted field uses (first key encrypts, all decrypt)."""
    return keyring(KEYS_SETTING, purpose=KEYS_PURPOSE)


class Unreadable(str):
    """A value whose token no key can decrypt: reads as ``UNREADABLE_TEXT``, keeps the stored token."""

    token: str

    def __new__(cls, token: str) -> Unreadable:
        marker = super().__new__(cls, UNREADABLE_TEXT)
        marker.token = token
        return marker


def encrypt_text(value: str) -> str:
    return field_ring().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str | Unreadable:
    """The clear text of a token, or an ``Unreadable`` marker when no key of the ring opens it."""
    try:
        return field_ring().decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeDecodeError, ValueError, TypeError):
        return Unreadable(token)


def is_current_token(token: str) -> bool:
    """Whether ``token`` is readable with the ring's first (newest) key (``rotate_keys`` skips it then)."""
    if not token:
        return True
    fernets = field_ring()._fernets  # the ring's keys, newest first
    try:
        fernets[0].decrypt(token.encode())
    except (InvalidToken, ValueError, TypeError):
        return False
    return True


def rotate_token(token: str) -> str:
    """``token`` re-encrypted with the newest key (unchanged when empty or unreadable)."""
    if not token:
        return token
    try:
        return field_ring().rotate(token.encode()).decode()
    except (InvalidToken, ValueError, TypeError):
        return token


class EncryptedMixin:
    """Storage, decryption and the lookup refusal shared by the encrypted fields."""

    encrypted = True
    name: str
    model: Any

    def get_internal_type(self) -> str:
        return "TextField"

    def db_type(self, connection: Any) -> str | None:
        return models.TextField().db_type(connection)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ALLOWED_LOOKUPS:
            raise FieldError(
                f"{self.model._meta.label}.{self.name} is encrypted: the lookup {lookup_name!r} cannot run "
                "in the database (only isnull can). Search through its blind index or filter the decrypted "
                "values in Python."
            )
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.model._meta.label}.{self.name} is encrypted: no transform {lookup_name!r}.")

    def _to_text(self, value: Any) -> str:
        raise NotImplementedError

    def _from_text(self, text: str) -> Any:
        raise NotImplementedError

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if hasattr(value, "as_sql"):
            return value  # an expression (bulk_update's Case): its Values come back here one by one
        if isinstance(value, Unreadable):
            return value.token  # write back what was read: nothing lost
        if value is None or value == "":
            return value
        return encrypt_text(self._to_text(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        clear = decrypt_text(str(value))
        if isinstance(clear, Unreadable):
            return clear
        try:
            return self._from_text(clear)
        except ValueError:
            return Unreadable(str(value))


class EncryptedTextField(EncryptedMixin, models.TextField):
    """A text field stored as a Fernet token; ``max_length`` is checked on the clear value (forms)."""

    description = _("Text (encrypted)")

    def _to_text(self, value: Any) -> str:
        return str(value)

    def _from_text(self, text: str) -> str:
        return text

    def formfield(self, **kwargs: Any) -> Any:  # type: ignore[override]
        # A one-line input like the CharField it replaces (Field's default), not TextField's textarea.
        return models.Field.formfield(self, **{"max_length": self.max_length, **kwargs})


class EncryptedDateField(EncryptedMixin, models.DateField):
    """A date stored as the Fernet token of its ISO form; in Python a ``date`` (or ``Unreadable``)."""

    description = _("Date (encrypted)")

    def _to_text(self, value: Any) -> str:
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, str):
            value = self.to_python(value)
        return value.isoformat()

    def _from_text(self, text: str) -> Any:
        return datetime.date.fromisoformat(text)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, Unreadable):
            return value
        return super().to_python(value)

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        if isinstance(value, Unreadable):
            return str(value)
        return "" if value is None else value.isoformat()

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Unreadable):
            return value
        return super().get_prep_value(value)
