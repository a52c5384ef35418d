"""Who a campaign reaches, who is never targeted and why: the exclusions as a rule table.

The audience is the campaign's segment (its rule over the active profile run; every customer when the
campaign has no segment), narrowed to the customers the campaign's owner may see (the project's one
visibility rule: marketing staff read every customer; a campaign without an owner reaches nobody). Then
the rules below, in table order; a customer caught by several is counted once, under the first.

Two kinds of rule:
- audience rules (consent, unsubscribe, do-not-contact, no address, profiling refusal) hold between
  assignment and sending: the assignment (``marketing.services.assignment``) takes only customers who pass
  them, so the holdout and the variants are drawn from the same eligible people;
- send-time rules (the frequency cap, the quiet hours) depend on the moment; the review shows them as of
  the scheduled time, the sender re-checks them per batch and records a skipped delivery for an assigned
  customer it holds back (who stays in their arm: the comparison is by intention to treat).

Cross-app reads: consents through ``customers.selectors.consent`` and the segment's rule through
``profiles.selectors.active_run`` + ``profiles.rules.rule_q``. Two reads have no selector in those apps
and are written here (read-only): unsubscribes (a withdrawal whose record came from the unsubscribe link)
and contact methods by kind, and the segment's members *before* the profiling refusal is taken out
(``profiles.selectors.segment_members`` already drops refusals and is per user), so the review can
count the refusals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm_site.db import bulk_reads, is_mongodb
from customers.models import ConsentPurpose, ConsentSource, ConsentState, ContactMethod, Customer
from customers.selectors.consent import consenting_customer_filter, customer_ids_refusing
from customers.selectors.visibility import visible_customer_filter
from marketing.models import Campaign, Delivery

Channel = Campaign.Channel

# The consent purpose each channel needs (customers' consent ledger is per channel).
CHANNEL_PURPOSE: dict[str, str] = {
    Channel.EMAIL: ConsentPurpose.MARKETING_EMAIL,
    Channel.SMS: ConsentPurpose.MARKETING_SMS,
    Channel.WECHAT: ConsentPurpose.MARKETING_WECHAT,
    Channel.APP_PUSH: ConsentPurpose.MARKETING_PUSH,
    Channel.CALL_LIST: ConsentPurpose.MARKETING_CALL,
}
# The contact methods a channel sends to. App push goes to the app's device tokens, which the CRM does
# not hold: no address rule for it (the push provider drops unknown customers).
CHANNEL_KINDS: dict[str, tuple[str, ...]] = {
    Channel.EMAIL: (ContactMethod.Kind.EMAIL,),
    Channel.SMS: (ContactMethod.Kind.MOBILE,),
    Channel.WECHAT: (ContactMethod.Kind.WECHAT,),
    Channel.APP_PUSH: (),
    Channel.CALL_LIST: (ContactMethod.Kind.PHONE, ContactMethod.Kind.MOBILE),
}
# Deliveries that count towards the cap: sent, and queued (about to go). Failed and skipped reached nobody.
CAPPED_STATUSES = (Delivery.Status.SENT, Delivery.Status.QUEUED)
AUDIENCE, SEND_TIME = "audience", "send_time"
NOBODY = Q(pk__in=[])
# Not Q(): an empty Q is dropped by exclude(), so it would exclude nobody.
EVERYBODY = Q(pk__isnull=False)


@dataclass(frozen=True)
class ExclusionRule:
    """One reason a customer is not targeted: ``condition(campaign, at)`` is a ``Q`` on Customer (the
    customers it excludes), or None when the rule does not apply to this campaign."""

    key: str
    reason: Promise
    kind: str
    condition: Callable[[Campaign, datetime], Q | None]


@dataclass(frozen=True)
class Exclusion:
    key: str
    reason: Promise
    count: int


@dataclass(frozen=True)
class AudienceReview:
    """The review step's numbers: the segment's size, each reason's count, and who is left."""

    total: int
    excluded: list[Exclusion]
    eligible: int
    at: datetime

    @property
    def excluded_total(self) -> int:
        return sum(item.count for item in self.excluded)


def quiet_hours() -> tuple[int, int]:
    """``settings.MARKETING_QUIET_HOURS`` ("21-8") as (start hour, end hour)."""
    text = str(settings.MARKETING_QUIET_HOURS).strip()
    try:
        start_text, end_text = text.split("-")
        start, end = int(start_text), int(end_text)
    except ValueError:
        raise ImproperlyConfigured(f'MARKETING_QUIET_HOURS must look like "21-8", not {text!r}.') from None
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise ImproperlyConfigured(f"MARKETING_QUIET_HOURS hours must be 0-23, not {text!r}.")
    return start, end


def in_quiet_hours(moment: datetime) -> bool:
    """Whether ``moment`` (aware) falls inside the quiet hours, in the server's time zone.

    ``start-end`` with start > end spans midnight (21-8: 21:00 to 07:59); start < end is one stretch of
    the day; start == end means no quiet hours.
    """
    start, end = quiet_hours()
    hour = timezone.localtime(moment).hour
    if start == end:
        return False
    if start > end:
        return hour >= start or hour < end
    return start <= hour < end


def _ids(queryset: QuerySet[Any, Any]) -> Any:
    # MongoDB runs an IN-subquery as a $lookup per row; the id list keeps it on the index.
    return list(queryset.values_list("customer_id", flat=True)) if is_mongodb() else queryset


def _no_consent(campaign: Campaign, at: datetime) -> Q | None:
    return ~consenting_customer_filter(CHANNEL_PURPOSE[campaign.channel])


def _unsubscribed(campaign: Campaign, at: datetime) -> Q | None:
    states = ConsentState.objects.filter(
        purpose=CHANNEL_PURPOSE[campaign.channel], granted=False, record__source=ConsentSource.UNSUBSCRIBE
    ).values("customer_id")
    return Q(pk__in=_ids(states))


def _do_not_contact(campaign: Campaign, at: datetime) -> Q | None:
    kinds = CHANNEL_KINDS[campaign.channel]
    if not kinds:
        return None
    methods = ContactMethod.objects.filter(kind__in=kinds)
    blocked = methods.filter(do_not_contact=True).values("customer_id")
    reachable = methods.filter(do_not_contact=False).values("customer_id")
    return Q(pk__in=_ids(blocked)) & ~Q(pk__in=_ids(reachable))


def _no_address(campaign: Campaign, at: datetime) -> Q | None:
    kinds = CHANNEL_KINDS[campaign.channel]
    if not kinds:
        return None
    return ~Q(pk__in=_ids(ContactMethod.objects.filter(kind__in=kinds).values("customer_id")))


def _refused_profiling(campaign: Campaign, at: datetime) -> Q | None:
    # Every segment is computed from profiles (a rule over the pipeline's output), so the refusal of
    # profiling-based marketing (PIPL Art. 24) applies whenever the campaign targets a segment.
    if campaign.segment_id is None:
        return None
    return Q(pk__in=_ids(customer_ids_refusing(ConsentPurpose.PROFILING)))


def _frequency_cap(campaign: Campaign, at: datetime) -> Q | None:
    since = at - timedelta(days=settings.MARKETING_FREQUENCY_DAYS)
    recent = (
        Delivery.objects.exclude(campaign=campaign)
        .filter(status__in=CAPPED_STATUSES)
        .filter(Q(sent_at__gte=since, sent_at__lte=at) | Q(sent_at__isnull=True, created_at__gte=since))
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=settings.MARKETING_FREQUENCY_CAP)
        .values("customer_id")
    )
    return Q(pk__in=_ids(recent))


def _quiet_hours(campaign: Campaign, at: datetime) -> Q | None:
    return EVERYBODY if in_quiet_hours(at) else NOBODY


# In this order; a customer caught by several rules is counted under the first. The channel-level
# refusals come first (the customer said no), then the missing means, then the profiling refusal, then
# the send-time holds (which would clear by themselves).
RULES: tuple[ExclusionRule, ...] = (
    ExclusionRule("unsubscribed", _("Unsubscribed from this channel"), AUDIENCE, _unsubscribed),
    ExclusionRule("no_consent", _("No marketing consent for this channel"), AUDIENCE, _no_consent),
    ExclusionRule(
        "do_not_contact",
        _("Asked not to be contacted at every address for this channel"),
        AUDIENCE,
        _do_not_contact,
    ),
    ExclusionRule("no_address", _("No address for this channel"), AUDIENCE, _no_address),
    ExclusionRule(
        "refused_profiling",
        _("Refused profiling-based marketing (computed segment)"),
        AUDIENCE,
        _refused_profiling,
    ),
    ExclusionRule(
        "frequency_cap",
        _("Reached the cap of marketing messages for the last days"),
        SEND_TIME,
        _frequency_cap,
    ),
    ExclusionRule("quiet_hours", _("Inside the quiet hours: held until they end"), SEND_TIME, _quiet_hours),
)


def segment_customers(*, campaign: Campaign) -> QuerySet[Customer]:
    """The customers of the campaign's segment in the active run (no exclusion yet), visible to its owner.

    No segment: every customer the owner may see. No active run: nobody (a segment is read from one).
    """
    from profiles.models import CustomerProfile
    from profiles.rules import rule_q
    from profiles.selectors import active_run

    owner = campaign.owner if campaign.owner is not None else AnonymousUser()
    customers = Customer.objects.filter(visible_customer_filter(user=owner, field="pk"))
    if campaign.segment_id is None:
        return customers
    if campaign.segment is None:
        return Customer.objects.none()
    run = active_run()
    if run is None:
        return Customer.objects.none()
    members: Any = (
        CustomerProfile.objects.filter(run=run).filter(rule_q(campaign.segment.rule)).values("customer_id")
    )
    if is_mongodb():
        members = list(members.values_list("customer_id", flat=True))
    return customers.filter(pk__in=members)


def _conditions(campaign: Campaign, at: datetime, kinds: tuple[str, ...]) -> list[tuple[ExclusionRule, Q]]:
    found = []
    for rule in RULES:
        if rule.kind not in kinds:
            continue
        condition = rule.condition(campaign, at)
        if condition is not None:
            found.append((rule, condition))
    return found


def audience_review(*, campaign: Campaign, at: datetime | None = None) -> AudienceReview:
    """How many the segment holds, how many each rule excludes (each customer once, under the first
    rule that catches them) and how many are left, as of ``at`` (default: the schedule, else now).
    One COUNT per rule, plus two."""
    at = at or campaign.scheduled_at or timezone.now()
    base = segment_customers(campaign=campaign)
    remaining = base
    excluded = []
    for rule, condition in _conditions(campaign, at, (AUDIENCE, SEND_TIME)):
        excluded.append(Exclusion(rule.key, rule.reason, remaining.filter(condition).count()))
        remaining = remaining.exclude(condition)
    return AudienceReview(total=base.count(), excluded=excluded, eligible=remaining.count(), at=at)


def audience_customers(
    *, campaign: Campaign, at: datetime | None = None, send_time: bool = False
) -> QuerySet[Customer]:
    """The customers the campaign may target: the segment minus the audience rules (and, with
    ``send_time``, minus the frequency cap and quiet hours at ``at``)."""
    at = at or timezone.now()
    kinds = (AUDIENCE, SEND_TIME) if send_time else (AUDIENCE,)
    customers = segment_customers(campaign=campaign)
    for _rule, condition in _conditions(campaign, at, kinds):
        customers = customers.exclude(condition)
    return customers


def audience_customer_ids(*, campaign: Campaign, chunk_size: int = 10_000) -> Iterator[str]:
    """Ids (text) of the customers assignment takes: ``audience_customers`` without the send-time rules."""
    ids = audience_customers(campaign=campaign).values_list("pk", flat=True)
    with bulk_reads():  # ids arrive as text inside the block
        yield from cast(Iterator[str], ids.iterator(chunk_size=chunk_size))
