"""Segment rules: a JSON list of {field, op, value} conditions (all must hold) over profile fields.

Only whitelisted fields and operators are accepted, so a stored rule can never reach arbitrary
lookups; every condition becomes a plain, portable ORM filter.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.dates import WEEKDAYS
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

NUMBER, TEXT, LIST = "number", "text", "list"

# field name in the rule -> (ORM path on CustomerProfile, kind, label)
FIELDS: dict[str, tuple[str, str, Any]] = {
    "rfm_segment": ("rfm_segment", TEXT, _("RFM segment")),
    "r_score": ("r_score", NUMBER, _("R score")),
    "f_score": ("f_score", NUMBER, _("F score")),
    "m_score": ("m_score", NUMBER, _("M score")),
    "recency_days": ("recency_days", NUMBER, _("Days since last purchase")),
    "frequency": ("frequency", NUMBER, pgettext_lazy("count", "Orders")),
    "monetary": ("monetary", NUMBER, _("Total spend")),
    "clv_12m": ("clv_12m", NUMBER, _("CLV (12 months)")),
    "p_alive": ("p_alive", NUMBER, _("Probability alive")),
    "churn_risk": ("churn_risk", NUMBER, _("Churn risk")),
    "expected_purchases_90d": ("expected_purchases_90d", NUMBER, _("Expected purchases (90 days)")),
    "cluster": ("cluster", NUMBER, _("Cluster")),
    "cluster_name": ("cluster_name", TEXT, _("Cluster name")),
    "interests": ("interests_text", LIST, _("Interest categories")),
    "next_best_offers": ("offers_text", LIST, _("Next best offers")),
    "preferred_channel": ("preferred_channel", TEXT, _("Preferred channel")),
    "preferred_hour": ("preferred_hour", NUMBER, _("Preferred hour")),
    "preferred_weekday": ("preferred_weekday", NUMBER, _("Preferred weekday")),
    "age_band": ("age_band", TEXT, _("Age band")),
    "region": ("region", TEXT, _("Region")),
    "gender": ("gender", TEXT, _("Gender")),
    "customer.lifecycle_stage": ("customer__lifecycle_stage", TEXT, _("Customer lifecycle stage")),
    "customer.source": ("customer__source", TEXT, _("Customer source")),
}
OPERATORS: dict[str, Any] = {
    "eq": _("equals"),
    "ne": _("does not equal"),
    "lt": _("less than"),
    "lte": _("at most"),
    "gt": _("greater than"),
    "gte": _("at least"),
    "in": _("one of"),
    "contains": _("contains"),
}
ORDERING_OPS = {"lt", "lte", "gt", "gte"}
MAX_CONDITIONS = 20

# Rules are written the way pages show them, and stored the way the profile columns hold them:
# probabilities are stored as 0..1 but read and typed as percentages ("churn risk at least 70%");
# coded values (RFM segment keys, weekday numbers, channel codes) are read and typed by their names.
PERCENT_FIELDS = frozenset({"p_alive", "churn_risk"})


def field_choices(field: str) -> dict[Any, Any] | None:
    """Stored value -> display name for a coded field, or None when the field holds plain values."""
    if field == "rfm_segment":
        from profiles.pipeline.rfm import RFM_SEGMENT_LABELS

        return dict(RFM_SEGMENT_LABELS)
    if field == "preferred_weekday":
        return dict(WEEKDAYS)  # 0 = Monday, as the pipeline computes it
    if field == "preferred_channel":
        from profiles.models import CHANNEL_LABELS

        return dict(CHANNEL_LABELS)
    return None


def _entered_choice(field: str, text: str, choices: dict[Any, Any], where: Any) -> Any:
    """The stored value for a name (in the active language or English) or a stored key, case-blind."""
    from django.utils import translation

    wanted = text.strip().casefold()
    for stored, label in choices.items():
        names = {str(stored).casefold(), str(label).casefold()}
        with translation.override("en"):
            names.add(str(label).casefold())
        if wanted in names:
            return stored
    raise ValidationError(
        _("%(where)s: “%(value)s” is not one of: %(names)s."),
        params={"where": where, "value": text, "names": ", ".join(str(label) for label in choices.values())},
    )


def _entered_value(field: str, value: Any, where: Any) -> Any:
    if field in PERCENT_FIELDS:
        text = str(value).strip().removesuffix("%").strip()
        return _number(text, where) / 100
    choices = field_choices(field)
    if choices is not None:
        return _entered_choice(field, str(value), choices, where)
    return value


def rule_from_entry(rule: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A rule as typed in the segment form (percentages, names) in its stored form (0..1, keys).

    Fields or operators that are not known are passed through for ``validate_rule`` to name.
    """
    stored = []
    for number, condition in enumerate(rule, start=1):
        where = _("Condition %(n)s") % {"n": number}
        field, op, value = condition["field"], condition["op"], condition["value"]
        if field in FIELDS and op in OPERATORS and str(value).strip():
            if op == "in":
                items = value if isinstance(value, list) else str(value).split(",")
                value = [_entered_value(field, item, where) for item in items if str(item).strip()]
            elif op != "contains":
                value = _entered_value(field, value, where)
        stored.append({"field": field, "op": op, "value": value})
    return stored


def value_text(field: str, value: Any) -> str:
    """A stored condition value as the pages show it and the segment form takes it."""
    if isinstance(value, list):
        return ", ".join(value_text(field, item) for item in value)
    if field in PERCENT_FIELDS and isinstance(value, int | float):
        percent = round(value * 100, 2)
        return number_format(int(percent) if percent.is_integer() else percent) + "%"
    choices = field_choices(field)
    if choices is not None:
        key = int(value) if field == "preferred_weekday" and isinstance(value, int | float) else value
        if key in choices:
            return str(choices[key])
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any, where: str) -> float:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            _("%(where)s: “%(value)s” is not a number."), params={"where": where, "value": value}
        ) from None
    # A Decimal like 1e309 is finite but no float is: the profile columns hold floats.
    if not number.is_finite() or not math.isfinite(float(number)):
        raise ValidationError(_("%(where)s: the number must be finite."), params={"where": where})
    return float(number)


def validate_rule(rule: Any) -> list[dict[str, Any]]:
    """The rule normalised (values typed), or ValidationError naming the condition that is wrong."""
    if rule in (None, ""):
        return []
    if not isinstance(rule, list):
        raise ValidationError(_("A rule is a list of conditions."))
    if len(rule) > MAX_CONDITIONS:
        raise ValidationError(_("A rule has at most %(n)s conditions."), params={"n": MAX_CONDITIONS})
    clean: list[dict[str, Any]] = []
    for number, condition in enumerate(rule, start=1):
        where = _("Condition %(n)s") % {"n": number}
        if not isinstance(condition, dict) or set(condition) != {"field", "op", "value"}:
            raise ValidationError(
                _("%(where)s: give exactly a field, an operator and a value."), params={"where": where}
            )
        field, op, value = condition["field"], condition["op"], condition["value"]
        if field not in FIELDS:
            raise ValidationError(
                _("%(where)s: unknown field “%(field)s”."), params={"where": where, "field": field}
            )
        if op not in OPERATORS:
            raise ValidationError(
                _("%(where)s: unknown operator “%(op)s”."), params={"where": where, "op": op}
            )
        kind = FIELDS[field][1]
        if op in ORDERING_OPS and kind != NUMBER:
            raise ValidationError(
                _("%(where)s: “%(op)s” needs a numeric field."), params={"where": where, "op": op}
            )
        if op == "contains" and kind == NUMBER:
            raise ValidationError(_("%(where)s: “contains” needs a text field."), params={"where": where})
        if op == "in":
            items = value if isinstance(value, list) else [v for v in str(value).split(",")]
            items = [str(item).strip() for item in items if str(item).strip()]
            if not items:
                raise ValidationError(_("%(where)s: give at least one value."), params={"where": where})
            value = [_number(item, where) for item in items] if kind == NUMBER else items
        elif kind == NUMBER:
            value = _number(value, where)
        else:
            value = str(value).strip()
            if not value:
                raise ValidationError(_("%(where)s: give a value."), params={"where": where})
            if len(value) > 100:
                raise ValidationError(_("%(where)s: the value is too long."), params={"where": where})
        clean.append({"field": field, "op": op, "value": value})
    return clean


def rule_q(rule: list[dict[str, Any]]) -> Q:
    """The rule as one Q over CustomerProfile (an empty rule matches everyone)."""
    q = Q()
    for condition in validate_rule(rule):
        path, kind, _label = FIELDS[condition["field"]]
        op, value = condition["op"], condition["value"]
        if kind == LIST:
            # Lists are stored as "|a|b|": eq/in match a whole item, contains any part of one.
            if op == "contains":
                part = Q(**{f"{path}__icontains": value})
            elif op == "in":
                part = Q()
                for item in value:
                    part |= Q(**{f"{path}__icontains": f"|{item}|"})
            else:
                part = Q(**{f"{path}__icontains": f"|{value}|"})
            q &= ~part if op == "ne" else part
            continue
        if op == "eq":
            q &= Q(**{path: value})
        elif op == "ne":
            q &= ~Q(**{path: value})
        elif op == "in":
            q &= Q(**{f"{path}__in": value})
        elif op == "contains":
            q &= Q(**{f"{path}__icontains": value})
        else:
            q &= Q(**{f"{path}__{op}": value})
    return q


def describe_rule(rule: list[dict[str, Any]]) -> list[str]:
    """Human-readable lines for a rule, for the segment page."""
    lines = []
    for condition in rule or []:
        field = condition.get("field")
        label = FIELDS[field][2] if isinstance(field, str) and field in FIELDS else field
        op_key = condition.get("op")
        op = OPERATORS.get(op_key, op_key) if isinstance(op_key, str) else op_key
        value = condition.get("value")
        shown = value_text(field, value) if isinstance(field, str) else str(value)
        lines.append(f"{label} {op} {shown}")
    return lines
