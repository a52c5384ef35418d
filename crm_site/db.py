"""Portable database helpers: the one way to open a transaction on every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connections, transaction


def is_mongodb(using: str = "default") -> bool:
    """True when the database alias is served by django-mongodb-backend."""
    return connections[using].vendor == "mongodb"


def atomic(using: str | Callable[..., Any] | None = None, savepoint: bool = True) -> Any:
    """``transaction.atomic`` that also works on MongoDB.

    Django's own ``transaction.atomic`` does nothing on MongoDB; the backend's own ``atomic`` runs a
    real multi-document transaction on a replica set and has no savepoints, so nested blocks join the
    outer one. Usable bare (``@atomic``) or called (``@atomic()``, ``with atomic():``).
    """
    if callable(using):
        return atomic()(using)
    alias = using or "default"
    if settings.DATABASES[alias]["ENGINE"] == "django_mongodb_backend":
        from django_mongodb_backend import transaction as mongo_transaction

        return mongo_transaction.atomic(using=alias)
    return transaction.atomic(using=alias, savepoint=savepoint)


def on_commit(func: Callable[[], Any], using: str = "default") -> None:
    """Run ``func`` after the current transaction commits (at once when none is open)."""
    transaction.on_commit(func, using=using)
