"""Which value of two duplicate records a merge keeps, field by field, and why.

The survivor is the record with the most history (orders, tickets: ``crm_site.registry.customer_history``;
ties go to the older record). Each field then defaults to the non-empty, most recent or most trusted
value; the merge screen shows the rule's reason and lets the user choose the other value instead.

    field             default                                            why
    ----------------  -------------------------------------------------  -----------------------------------
    kind, name        the survivor's, unless empty                       the record with the most history
                                                                           is the one people know
    gender            a known gender beats Unknown; both known: the       "Unknown" is the absence of a value
                      survivor's
    birth_date        non-empty; both: the survivor's                    a date of birth does not change
    company_name,     non-empty; both: the more recently updated          job and company data go stale
    job_title, ...    record's
    lifecycle_stage   the more advanced (lead < prospect < customer =     a merge never demotes a customer
                      churned; a tie: the more recently updated)
    source            the older record's, unless it says Other            where the customer first came from
    owner             the survivor's, unless it has none                  the owner of the history keeps it
    marketing_consent the latest explicit choice with its date, channel   consent never turns silently from
      (+ date, channel, note)   and note; neither explicit and they       yes to no or from no to yes
                      differ: the user must choose
    created_at        the earliest (not a choice)                         the customer has been known since
    notes, custom     both kept (survivor's first / survivor's value on   nothing written by hand is lost
      fields          a clash; not a choice)
    external_id       the survivor's, else the other's (not a choice)     the key is unique

Pure functions over two records: no queries, so the screen can preview a merge before it happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from customers.normalize import PHONE_KINDS

Side = Literal["survivor", "loser"]
SIDES: tuple[Side, Side] = ("survivor", "loser")
# Returns the side whose value the merge keeps by default, or None when only a person can decide.
Pick = Callable[[Any, Any], Side | None]

EMPTY = (None, "")
GENDER_UNKNOWN = "unknown"
SOURCE_UNKNOWN = "other"
# How far along the lifecycle a stage is: churned customers were customers, so it ties with customer.
STAGE_RANK = {"lead": 0, "prospect": 1, "customer": 2, "churned": 2}
CONSENT_FIELDS = ("marketing_consent", "consent_changed_at", "consent_channel", "consent_note")


def _value(customer: Any, field: str) -> Any:
    return getattr(customer, f"{field}_id" if field == "owner" else field)


def _more_recent(survivor: Any, loser: Any) -> Side:
    """The side updated last (the survivor on a tie or when a date is missing)."""
    if survivor.updated_at and loser.updated_at and loser.updated_at > survivor.updated_at:
        return "loser"
    return "survivor"


def survivor_unless_empty(field: str) -> Pick:
    def pick(survivor: Any, loser: Any) -> Side:
        if _value(survivor, field) in EMPTY and _value(loser, field) not in EMPTY:
            return "loser"
        return "survivor"

    return pick


def most_recent_non_empty(field: str) -> Pick:
    def pick(survivor: Any, loser: Any) -> Side:
        mine, theirs = _value(survivor, field), _value(loser, field)
        if mine in EMPTY or theirs in EMPTY:
            return "loser" if mine in EMPTY and theirs not in EMPTY else "survivor"
        return _more_recent(survivor, loser)

    return pick


def known_gender(survivor: Any, loser: Any) -> Side:
    if survivor.gender in (*EMPTY, GENDER_UNKNOWN) and loser.gender not in (*EMPTY, GENDER_UNKNOWN):
        return "loser"
    return "survivor"


def more_advanced_stage(survivor: Any, loser: Any) -> Side:
    mine, theirs = STAGE_RANK.get(survivor.lifecycle_stage, -1), STAGE_RANK.get(loser.lifecycle_stage, -1)
    if mine != theirs:
        return "loser" if theirs > mine else "survivor"
    return _more_recent(survivor, loser) if survivor.lifecycle_stage != loser.lifecycle_stage else "survivor"


def first_known_source(survivor: Any, loser: Any) -> Side:
    mine, theirs = survivor.source, loser.source
    if mine in (*EMPTY, SOURCE_UNKNOWN) or theirs in (*EMPTY, SOURCE_UNKNOWN):
        return (
            "loser"
            if mine in (*EMPTY, SOURCE_UNKNOWN) and theirs not in (*EMPTY, SOURCE_UNKNOWN)
            else "survivor"
        )
    older_loser = survivor.created_at and loser.created_at and loser.created_at < survivor.created_at
    return "loser" if older_loser else "survivor"


def latest_explicit_consent(survivor: Any, loser: Any) -> Side | None:
    """The choice recorded last (a record with a consent date is explicit; one without never was asked)."""
    mine, theirs = survivor.consent_changed_at, loser.consent_changed_at
    if mine and theirs:
        return "loser" if theirs > mine else "survivor"
    if mine or theirs:
        return "survivor" if mine else "loser"
    if bool(survivor.marketing_consent) == bool(loser.marketing_consent):
        return "survivor"
    return None  # yes against no and neither says when: keeping either would be a silent change


@dataclass(frozen=True)
class MergeRule:
    """How a merge chooses one field (``carries``: fields that go with it, e.g. the consent's date)."""

    field: str
    pick: Pick
    reason: Promise
    carries: tuple[str, ...] = ()


MERGE_RULES: tuple[MergeRule, ...] = (
    MergeRule("kind", survivor_unless_empty("kind"), _("the record with the most history")),
    MergeRule("name", survivor_unless_empty("name"), _("the record with the most history")),
    MergeRule("gender", known_gender, _("a known gender beats Unknown")),
    MergeRule("birth_date", survivor_unless_empty("birth_date"), _("the value that is filled in")),
    MergeRule(
        "company_name", most_recent_non_empty("company_name"), _("filled in, the more recently updated")
    ),
    MergeRule("job_title", most_recent_non_empty("job_title"), _("filled in, the more recently updated")),
    MergeRule("industry", most_recent_non_empty("industry"), _("filled in, the more recently updated")),
    MergeRule(
        "company_size", most_recent_non_empty("company_size"), _("filled in, the more recently updated")
    ),
    MergeRule("website", most_recent_non_empty("website"), _("filled in, the more recently updated")),
    MergeRule("tax_number", most_recent_non_empty("tax_number"), _("filled in, the more recently updated")),
    MergeRule("lifecycle_stage", more_advanced_stage, _("the more advanced stage")),
    MergeRule("source", first_known_source, _("where the customer first came from")),
    MergeRule("owner", survivor_unless_empty("owner"), _("the owner of the record with the most history")),
    MergeRule(
        "marketing_consent",
        latest_explicit_consent,
        _("the latest explicit choice, with its date"),
        carries=CONSENT_FIELDS[1:],
    ),
)
RULES_BY_FIELD = {rule.field: rule for rule in MERGE_RULES}
# Not a choice on the merge screen: the value follows from both records.
FIXED_REASONS: dict[str, Promise] = {
    "created_at": _("the earliest: the customer has been known since then"),
    "notes": _("both kept, the survivor's first"),
    "attributes": _("both kept; the survivor's value where both have one"),
    "external_id": _("the survivor's, else the other's (it is unique)"),
}


def default_sides(survivor: Any, loser: Any) -> dict[str, Side | None]:
    """Each rule's default side for these two records (None: the user must choose)."""
    return {rule.field: rule.pick(survivor, loser) for rule in MERGE_RULES}


def differs(survivor: Any, loser: Any, rule: MergeRule) -> bool:
    return any(_value(survivor, name) != _value(loser, name) for name in (rule.field, *rule.carries))


def combined_notes(survivor_notes: str, loser_notes: str) -> str:
    if not loser_notes or loser_notes == survivor_notes:
        return survivor_notes
    return "\n\n".join(part for part in (survivor_notes, loser_notes) if part)


def contact_key(kind: str, value_normalized: str) -> tuple[str, str]:
    """Two contact values are the same when this matches: a phone and a mobile number compare as phones."""
    return ("phone" if kind in PHONE_KINDS else kind, value_normalized)
