"""Cheap model instances for bulk writes of already-checked values (imports, demo data, profile runs)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Model
from django.db.models.base import ModelState


def build_instances(
    model: type[Model], defaults: dict[str, Any], rows: Iterable[dict[str, Any]]
) -> list[Any]:
    """Model instances without ``Model.__init__`` (a third of the write time at 500,000 order lines).

    Safe because every value was checked beforehand and ``defaults`` holds every other concrete field
    (``field_defaults`` leaves the primary key out: rows that need a fresh one carry their own ``id``);
    bulk_create still fills the timestamps (auto_now) and marks the instances saved.
    """
    made = []
    new = model.__new__
    for values in rows:
        instance = new(model)
        instance.__dict__.update(defaults)
        instance.__dict__.update(values)
        instance._state = ModelState()
        made.append(instance)
    return made


def field_defaults(model: type[Model]) -> dict[str, Any]:
    return {f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key}
