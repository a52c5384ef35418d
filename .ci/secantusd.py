"""Start the secantusdb MongoDB-wire test server with two fixes for gaps in its emulation.

MongoDB reads a nested document in ``$project`` as a nested projection (``{"ct": {"app_label": 1}}``
means ``{"ct.app_label": 1}``), and a nested document in ``$addFields`` as fields merged into the
existing embedded document. secantusdb 0.7.0b3 evaluates both as literal documents, so every value
django-mongodb-backend reads across a relation comes back as ``1`` (``values("content_type__app_label")``,
and so Django's permission checks) and ``select_related`` loses the related object's key. This launcher
flattens such specs into dotted paths before secantusdb sees them, then runs its normal CLI.
It is a test tool only and is never imported by the product.
"""

import sys
from collections.abc import Mapping
from typing import Any

from secantus import aggregate
from secantus.cli import main


def flatten_projection(spec: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1, "c": "$x"}}`` -> ``{"a.b": 1, "a.c": "$x"}``; operators and literals stay."""
    flat: dict[str, Any] = {}
    for key, value in spec.items():
        path = f"{prefix}{key}"
        is_nested_projection = (
            isinstance(value, Mapping) and value and not any(str(k).startswith("$") for k in value)
        )
        if is_nested_projection and key != "_id":
            flat.update(flatten_projection(value, f"{path}."))
        else:
            flat[path] = value
    return flat


_project_one = aggregate._project_one


def project_one(doc: dict[str, Any], spec: Mapping[str, Any], vars: dict[str, Any]) -> dict[str, Any]:
    return _project_one(doc, flatten_projection(spec), vars)


_add_fields_one = aggregate._add_fields_one


def add_fields_one(doc: dict[str, Any], spec: Mapping[str, Any], vars: dict[str, Any]) -> dict[str, Any]:
    return _add_fields_one(doc, flatten_projection(spec), vars)


aggregate._project_one = project_one
aggregate._add_fields_one = add_fields_one

if __name__ == "__main__":
    sys.exit(main())
