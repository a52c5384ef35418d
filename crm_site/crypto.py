"""Keys for personal data: Fernet key rings (encryption at rest) and keyed hashes (blind indexes).

One home for the project's symmetric secrets, so every app encrypts and hashes the same way:

- ``keyring(setting, purpose=)``: a ``MultiFernet`` over the keys listed in the setting (the first
  encrypts, every key decrypts, so keys can be rotated: add a new key in front, re-encrypt, drop the
  old one). With the setting empty the ring holds one key derived from ``SECRET_KEY`` and ``purpose``,
  so a fresh ``make run`` works; production sets its own keys (``crm_site.checks`` warns otherwise).
- ``blind_index(value, purpose=)``: an HMAC-SHA256 of an already normalised value under
  ``CRM_BLIND_INDEX_KEY``, hex, so equal values hash equal (exact search, duplicate detection, the
  suppression list) while the stored hash does not give the value back. ``purpose`` separates the
  uses (a phone's hash is not an email's). The key cannot be rotated without recomputing every hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# 32 hex characters = 128 bits of the HMAC: collisions are not a concern at any CRM's size, and the
# indexed column stays short.
BLIND_INDEX_HEX = 32


def _derived_key(purpose: str) -> str:
    digest = hashlib.sha256(f"crm-{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys(setting: str) -> list[str]:
    """The non-empty keys of a list setting (comma-separated in the environment)."""
    return [key.strip() for key in getattr(settings, setting, []) or [] if key and key.strip()]


@lru_cache(maxsize=16)
def _ring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def ring_keys(setting: str, *, purpose: str) -> list[str]:
    """The keys ``keyring`` uses: the configured ones, else the one derived from ``SECRET_KEY``."""
    return configured_keys(setting) or [_derived_key(purpose)]


@lru_cache(maxsize=16)
def keyring(setting: str, *, purpose: str) -> MultiFernet:
    """The Fernet ring of ``setting`` (e.g. ``CRM_FIELD_ENCRYPTION_KEYS``); cached per setting and key
    list (every encrypted value asks for it), forgotten when a key setting changes."""
    return _ring(tuple(ring_keys(setting, purpose=purpose)))


def blind_index_key() -> bytes:
    configured = (getattr(settings, "CRM_BLIND_INDEX_KEY", "") or "").strip()
    return (configured or _derived_key("blind-index")).encode()


@lru_cache(maxsize=1)
def _keyed_hmac() -> hmac.HMAC:
    """The HMAC with the key already absorbed, copied per value: a seed or import hashes every contact
    and each phone's 4-digit runs (about ten hashes a contact), and re-reading the settings and keying
    a new HMAC for each was half the seeder's hashing time. Forgotten when a key setting changes."""
    return hmac.new(blind_index_key(), digestmod=hashlib.sha256)


def blind_index(value: str, *, purpose: str) -> str:
    """The keyed hash of a normalised value ("" for ""); see the module docstring."""
    if not value:
        return ""
    digest = _keyed_hmac().copy()
    digest.update(f"{purpose}\x00{value}".encode())
    return digest.hexdigest()[:BLIND_INDEX_HEX]


KEY_SETTINGS = frozenset(
    {"SECRET_KEY", "CRM_BLIND_INDEX_KEY", "CRM_FIELD_ENCRYPTION_KEYS", "CRM_TWO_FACTOR_KEYS"}
)


@receiver(setting_changed)
def _keys_changed(*, setting: str, **kwargs: object) -> None:
    if setting in KEY_SETTINGS:
        _keyed_hmac.cache_clear()
        keyring.cache_clear()
