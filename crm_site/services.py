"""The helpers every create and update service uses: set the given fields, validate the whole row, save."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeVar

from django.db import models

ModelT = TypeVar("ModelT", bound=models.Model)


class Unchanged(enum.Enum):
    """The type of ``UNCHANGED``, the default of an update service's field arguments."""

    UNCHANGED = "unchanged"


# An update service's field argument left at this default keeps the stored value.
UNCHANGED: Final = Unchanged.UNCHANGED


def given(**values: Any) -> dict[str, Any]:
    """The arguments the caller gave (not left ``UNCHANGED``): the ``data`` an update service hands on."""
    return {name: value for name, value in values.items() if value is not UNCHANGED}


def _current(instance: models.Model, name: str, value: Any) -> tuple[Any, Any]:
    """(stored, wanted) comparable without loading a related row: foreign keys compare by their key."""
    field = instance._meta.get_field(name)
    if isinstance(field, models.ForeignKey) and name == field.name:
        return getattr(instance, field.attname), None if value is None else value.pk
    return getattr(instance, name), value


def _refuse_unknown(
    model: type[models.Model], fields: Sequence[str], data: Mapping[str, Any], verb: str
) -> None:
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"{model.__name__} {verb} does not take: {', '.join(sorted(unknown))}")


def model_create(*, model: type[ModelT], fields: Sequence[str], data: Mapping[str, Any]) -> ModelT:
    """A new ``model`` row from ``data``'s values of ``fields`` (the rest keep their defaults),
    ``full_clean()``-ed and saved. A key of ``data`` outside ``fields`` is a TypeError, as in
    ``model_update``."""
    _refuse_unknown(model, fields, data, "create")
    instance = model(**data)
    instance.full_clean()
    instance.save()
    return instance


def model_update(*, instance: ModelT, fields: Sequence[str], data: Mapping[str, Any]) -> tuple[ModelT, bool]:
    """Set ``data``'s values of ``fields`` on ``instance``; when any differs, ``full_clean()`` and save.

    Only the changed fields (and the ``auto_now`` timestamps) are written, so another user's change to
    any other column meanwhile survives. A key of ``data`` outside ``fields`` is a programming error
    (TypeError), never dropped silently. Returns the instance and whether it was saved.
    """
    _refuse_unknown(type(instance), fields, data, "update")
    changed = []
    old: dict[str, Any] = {}
    for name in fields:
        if name not in data:
            continue
        stored, wanted = _current(instance, name, data[name])
        if stored != wanted:
            old[getattr(instance._meta.get_field(name), "attname", name)] = stored
            setattr(instance, name, data[name])
            changed.append(name)
    if changed:
        from crm_site.audit.trail import remember_old

        instance.full_clean()
        # The audit trail records old and new values; handing it the old ones spares it a read.
        remember_old(instance, old)
        stamps = [
            field.name
            for field in instance._meta.concrete_fields
            if getattr(field, "auto_now", False) and field.name not in changed
        ]
        instance.save(update_fields=[*changed, *stamps])
    return instance, bool(changed)
