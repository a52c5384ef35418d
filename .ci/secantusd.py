"""Start the secantusdb MongoDB-wire test server with fixes for gaps in its emulation.

MongoDB reads a nested document in ``$project`` as a nested projection (``{"ct": {"app_label": 1}}``
means ``{"ct.app_label": 1}``), and a nested document in ``$addFields`` as fields merged into the
existing embedded document. secantusdb 0.7.0b3 evaluates both as literal documents, so every value
django-mongodb-backend reads across a relation comes back as ``1`` (``values("content_type__app_label")``,
and so Django's permission checks) and ``select_related`` loses the related object's key. This launcher
flattens such specs into dotted paths before secantusdb sees them, then runs its normal CLI.

Third, a planning gap: MongoDB moves a ``$match`` that does not read a ``$lookup``'s output ahead of
that ``$lookup`` (SERVER-21612), so the filter is an index scan and only the matching documents are
joined. django-mongodb-backend writes ``select_related`` joins before the filter; secantusdb ran them
in that order, joining every document of the collection first (seconds for a list page of 25 rows) and
using an index only for a leading ``$match``, and only for its top-level fields (django-mongodb-backend
writes several conditions as one ``$and``). The launcher moves such a ``$match`` to the front and
writes a leading ``$and`` of plain conditions as one filter document, which MongoDB reads identically.
And an ``$in`` over a long list of strings is a set look-up (secantusdb compared every candidate for
every document, seconds for 1,000 ids; MongoDB builds index bounds).
It is a test tool only and is never imported by the product.
"""

import json
import sys
from collections.abc import Mapping
from typing import Any

from secantus import aggregate, commands, query
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


# Stages that only add the output of a join: a $match that reads none of their fields moves past them.
_JOIN_STAGES = ("$lookup", "$set", "$addFields", "$unwind")


def _join_outputs(stage: Mapping[str, Any]) -> set[str] | None:
    """The top-level fields a join stage writes, or None when it is another kind of stage."""
    if len(stage) != 1:
        return None
    name, spec = next(iter(stage.items()))
    if name not in _JOIN_STAGES:
        return None
    if name == "$lookup":
        return {str(spec.get("as", ""))} if isinstance(spec, Mapping) else None
    if name == "$unwind":
        path = spec.get("path") if isinstance(spec, Mapping) else spec
        return {str(path).lstrip("$").split(".")[0]} if isinstance(path, str) else None
    return {str(key).split(".")[0] for key in spec} if isinstance(spec, Mapping) else None


def match_first(pipeline: list[Any]) -> list[Any]:
    """Move a ``$match`` that follows only join stages, and reads none of their outputs, to the front."""
    written: set[str] = set()
    for i, stage in enumerate(pipeline):
        if not isinstance(stage, Mapping):
            return pipeline
        if i and list(stage) == ["$match"] and written:
            text = json.dumps(stage["$match"], default=str)
            if any(f'"{field}' in text or f'"${field}' in text for field in written):
                return pipeline
            return [stage, *pipeline[:i], *pipeline[i + 1 :]]
        outputs = _join_outputs(stage)
        if outputs is None:
            return pipeline
        written |= outputs
    return pipeline


def flat_and(query: Any) -> Any:
    """``{"$and": [{"a": 1}, {"b": {"$in": [...]}}]}`` -> ``{"a": 1, "b": {"$in": [...]}}`` (nested too).

    The same filter to MongoDB; secantusdb's planner used an index only for a filter's top-level fields,
    so every multi-condition filter django-mongodb-backend writes scanned the collection. A key that
    repeats stays in an ``$and`` of what is left.
    """
    if not isinstance(query, Mapping) or list(query) != ["$and"] or not isinstance(query["$and"], list):
        return query
    merged: dict[str, Any] = {}
    rest: list[Any] = []
    for part in query["$and"]:
        part = flat_and(part)
        if not isinstance(part, Mapping) or any(key in merged for key in part):
            rest.append(part)
            continue
        merged.update(part)
    if rest:
        merged["$and"] = [*merged.pop("$and", []), *rest]
    return merged


_resolve_view = commands._resolve_view


def resolve_view(ctx: Any, coll: str, pipeline: list[Any]) -> tuple[str, list[Any]]:
    base, resolved = _resolve_view(ctx, coll, pipeline)
    planned = match_first(list(resolved))
    if planned and isinstance(planned[0], Mapping) and list(planned[0]) == ["$match"]:
        planned[0] = {"$match": flat_and(planned[0]["$match"])}
    return base, planned


_op_matches = query._op_matches
_IN_SETS: dict[int, tuple[list[Any], frozenset[str]]] = {}


def op_matches(values: list[Any], op: str, arg: Any, collation: Any = None, **kwargs: Any) -> bool:
    """``$in`` over a long list of strings by set membership (secantusdb compared each candidate in turn,
    for every document: a list of 1,000 ids cost seconds). Anything else, secantusdb's own."""
    if op == "$in" and collation is None and isinstance(arg, list) and len(arg) > 16:
        cached = _IN_SETS.get(id(arg))
        if cached is None or cached[0] is not arg:
            strings = all(type(v) is str for v in arg)
            cached = (arg, frozenset(arg) if strings else frozenset())
            if len(_IN_SETS) > 256:
                _IN_SETS.clear()
            _IN_SETS[id(arg)] = cached
        if cached[1] and values and all(type(v) is str for v in values):
            return any(v in cached[1] for v in values)
    return _op_matches(values, op, arg, collation, **kwargs)


aggregate._project_one = project_one
query._op_matches = op_matches
aggregate._add_fields_one = add_fields_one
commands._resolve_view = resolve_view

if __name__ == "__main__":
    sys.exit(main())
