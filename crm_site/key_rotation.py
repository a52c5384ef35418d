"""Re-encrypting every encrypted column with the newest key (``manage.py rotate_keys``, issue 13).

Key rotation: put the new key first in ``CRM_FIELD_ENCRYPTION_KEYS`` (keep the old ones after it), run
``rotate_keys``, then drop the old keys. Each model with ``crm_site.fields`` encrypted fields is walked in
batches by primary key (``pk > last``, ordered: no OFFSET, the same on SQLite, PostgreSQL and MongoDB);
the stored tokens are read as they are (not decrypted by the field), a token the newest key already
opens is skipped, the others are re-encrypted (``MultiFernet.rotate``) and written back with one
``bulk_update`` per batch. So the run is restartable: after an interruption it finds the rows already
done and passes over them. A token no key opens is left as it is and counted as unreadable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, TextField, Value

from crm_site.fields import EncryptedMixin, is_current_token, rotate_token

BATCH_SIZE = 1000


@dataclass
class RotationCount:
    model: str
    rows: int = 0  # rows read
    rotated: int = 0  # values re-encrypted with the newest key
    current: int = 0  # values already on the newest key (skipped)
    unreadable: int = 0  # values no key opens (left as they are)
    batches: int = 0


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedMixin)]


def encrypted_models() -> Iterator[type[models.Model]]:
    """The project's concrete models with at least one encrypted field."""
    for label in [*settings.PROJECT_APPS, "crm_site"]:
        if label not in apps.app_configs:
            continue
        for model in apps.get_app_config(label).get_models():
            if model._meta.managed and not model._meta.proxy and encrypted_fields(model):
                yield model


def _raw(name: str) -> str:
    return f"_raw_{name}"


def rotate_model(
    model: type[models.Model],
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    progress: Callable[[RotationCount], None] | None = None,
) -> RotationCount:
    """Re-encrypt ``model``'s encrypted columns with the newest key; see the module docstring."""
    fields = encrypted_fields(model)
    count = RotationCount(model._meta.label)
    # The stored token as text: the wrapper's output field is a plain TextField, so nothing decrypts it.
    raw = {
        _raw(field.attname): ExpressionWrapper(F(field.attname), output_field=TextField()) for field in fields
    }
    last: Any = None
    while max_batches is None or count.batches < max_batches:
        page = model._default_manager.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.annotate(**raw).values_list("pk", *raw)[:batch_size])
        if not rows:
            break
        last = rows[-1][0]
        changed: list[models.Model] = []
        names: set[str] = set()
        for pk, *tokens in rows:
            instance = model(pk=pk)
            dirty = False
            for field, token in zip(fields, tokens, strict=True):
                if not token:
                    continue
                if is_current_token(token):
                    count.current += 1
                    continue
                new = rotate_token(token)
                if new == token:
                    count.unreadable += 1
                    continue
                # An expression: bulk_update writes it as it is (the field would encrypt a plain value).
                setattr(instance, field.attname, Value(new, output_field=TextField()))
                names.add(field.attname)
                count.rotated += 1
                dirty = True
            if dirty:
                changed.append(instance)
        if changed:
            with transaction.atomic():
                model._default_manager.bulk_update(changed, sorted(names), batch_size=batch_size)
        count.rows += len(rows)
        count.batches += 1
        if progress is not None:
            progress(count)
    return count


def rotate_all(
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    progress: Callable[[RotationCount], None] | None = None,
) -> list[RotationCount]:
    return [
        rotate_model(model, batch_size=batch_size, max_batches=max_batches, progress=progress)
        for model in encrypted_models()
    ]
