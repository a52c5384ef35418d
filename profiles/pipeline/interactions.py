"""Contact features from the sessions log: how often we talk to a customer, how lately, on which channels,
who starts the conversation and how often it is a complaint.

Input: the `interactions` frame (customer_id, occurred_at, kind = the sessions log's channel, direction,
outcome). Only interactions strictly before the `as_of` cutoff count (`frames.as_of_cutoff`), so the same
function builds today's features and the churn model's training snapshots without seeing their future.

A *contact* is an interaction with the customer: inbound or outbound. Internal ones (notes staff write
about a customer) are not a conversation and are left out of every feature here (`interaction_count`
in `features` still counts them). A row without a direction (a source that does not record one) is a
contact, but neither inbound nor outbound.

Columns (index customer_id, one row per customer with any interaction before the cutoff):

    contacts_90d            contacts in the RECENT_DAYS days ending with the as-of day D
    contacts_per_month      contacts in the RATE_WINDOW_DAYS days ending with D, per month (DAYS_PER_MONTH)
                            of that window, or of the time since the first contact when that is shorter
                            (at least MIN_MONTHS)
    days_since_contact      whole days from the last contact's day to D (NaN: never contacted)
    share_<channel>         share of the contacts on each of MAIN_CHANNELS (the rest: 1 - their sum)
    complaint_rate          contacts with outcome COMPLAINT / contacts (NaN: never contacted)
    complaints_90d          complaints in the RECENT_DAYS days ending with D
    inbound_share           inbound / (inbound + outbound) (NaN: neither)
    inbound_outbound_ratio  inbound / outbound; NaN when there was no outbound contact: the ratio is then
                            undefined (infinite with any inbound one), and inbound_share = 1 says the same
                            thing on a bounded scale, so the models use inbound_share only

Customers without a contact get NEUTRAL_VALUES in the model matrix (`features.model_matrix`); see there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import as_of_cutoff, as_of_day, conform, id_codes, local_days, share_customer_ids

# The same quarter as orders_90d, so that "orders lately" and "contacts lately" read side by side.
RECENT_DAYS = 90
# One year holds every season once (year-end reviews, the 11.11 and 618 campaigns' calls); a shorter
# window makes the monthly rate swing with one busy month.
RATE_WINDOW_DAYS = 365
DAYS_PER_MONTH = 365.25 / 12
# One contact yesterday is one a month, not thirty: a customer's first month counts as a whole month.
MIN_MONTHS = 1.0
# The channels that carry ~90% of contacts in a consumer business (the demo's shares: call 30%, chat 22%,
# email 14%, WeChat 14%, visit 8%); SMS and meetings are too rare to be a mix of their own.
MAIN_CHANNELS = ("call", "email", "chat", "wechat", "visit")
INBOUND, OUTBOUND, INTERNAL = "inbound", "outbound", "internal"
COMPLAINT = "complaint"

INTERACTION_FEATURES = (
    "contacts_90d",
    "contacts_per_month",
    "days_since_contact",
    *(f"share_{channel}" for channel in MAIN_CHANNELS),
    "complaint_rate",
    "complaints_90d",
    "inbound_share",
)
# Shown on the profile but not given to the models (see inbound_outbound_ratio above).
DISPLAY_ONLY_FEATURES = ("inbound_outbound_ratio",)
INTERACTION_COLUMNS = (*INTERACTION_FEATURES, *DISPLAY_ONLY_FEATURES)

# Model-matrix values for customers never contacted (the profile keeps NaN where a value is undefined).
# Counts and shares are their true value, 0. The rest are fills a contacted customer can also have: the
# trees tell "never contacted" apart by contacts_per_month = 0, so a fill only has to be harmless.
# days_since_contact is not here: model_matrix uses the customer's tenure (not contacted since they
# appeared), the rule recency_days follows for customers who never bought.
NEUTRAL_VALUES: dict[str, float] = {
    "contacts_90d": 0.0,
    "contacts_per_month": 0.0,
    **{f"share_{channel}": 0.0 for channel in MAIN_CHANNELS},
    # No complaint heard: the same fill campaign_response_rate gets for customers never targeted.
    "complaint_rate": 0.0,
    "complaints_90d": 0.0,
    # Neither side starts the conversation more: the midpoint.
    "inbound_share": 0.5,
}


def _positions(values: pd.Series, labels: tuple[str, ...]) -> np.ndarray:
    """Each row's position in `labels`; len(labels) for any other value and for missing ones.

    On the reader's categoricals this maps the few categories, not the rows' strings.
    """
    other = len(labels)
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = [labels.index(c) if c in labels else other for c in values.cat.categories.astype("str")]
        # The extra last entry is where code -1 (missing) lands.
        return np.array([*lookup, other], dtype=np.int64)[values.cat.codes.to_numpy()]
    found = pd.Index(labels).get_indexer(values.astype("object"))
    return np.where(found < 0, other, found).astype(np.int64)


def _table(codes: np.ndarray, positions: np.ndarray, n: int, width: int) -> np.ndarray:
    """Rows per (customer, position) as an n x width count table, in one pass."""
    return np.bincount(codes * width + positions, minlength=n * width).reshape(n, width)


def _rate(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(
        numerator.astype(np.float64),
        denominator,
        out=np.full(len(numerator), np.nan),
        where=denominator > 0,
    )


def interaction_columns(
    interactions: pd.DataFrame, codes: np.ndarray, n: int, *, cutoff: pd.Timestamp, timezone: str
) -> dict[str, np.ndarray]:
    """INTERACTION_COLUMNS as arrays over customer codes 0..n-1 (`codes`: each row's customer code).

    `interactions` must already hold only rows before `cutoff` with a customer; the shared-id form
    `customer_features` works in (see `interaction_features` for the frame in, frame out version).
    Count tables over integer codes rather than row filters: at 10 M rows a filtered copy of the frame
    cost more than every count together.
    """
    today = as_of_day(cutoff, timezone)
    directions = (INBOUND, OUTBOUND, INTERNAL)
    direction = _positions(interactions["direction"], directions)
    by_direction = _table(codes, direction, n, len(directions) + 1)
    contact = direction != directions.index(INTERNAL)
    contacts = by_direction.sum(axis=1) - by_direction[:, directions.index(INTERNAL)]
    inbound, outbound = by_direction[:, 0], by_direction[:, 1]
    days = local_days(interactions["occurred_at"], timezone) if len(interactions) else np.zeros(0, np.int64)
    age = today - days  # 0 = the as-of day itself

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=mask & contact, minlength=n)

    columns: dict[str, np.ndarray] = {}
    columns["contacts_90d"] = count(age < RECENT_DAYS)
    contact_codes, contact_days = codes[contact], days[contact]
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, contact_codes, contact_days)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, contact_codes, contact_days)
    seen = contacts > 0
    span_days = np.where(seen, today - first + 1, 0)
    months = np.maximum(np.minimum(span_days, RATE_WINDOW_DAYS) / DAYS_PER_MONTH, MIN_MONTHS)
    columns["contacts_per_month"] = np.where(seen, count(age < RATE_WINDOW_DAYS) / months, 0.0)
    columns["days_since_contact"] = np.where(seen, today - last, np.nan).astype(np.float64)
    kind = _positions(interactions["kind"], MAIN_CHANNELS)[contact]
    by_channel = _table(contact_codes, kind, n, len(MAIN_CHANNELS) + 1)
    for position, channel in enumerate(MAIN_CHANNELS):
        columns[f"share_{channel}"] = np.nan_to_num(_rate(by_channel[:, position], contacts))
    complaint = _positions(interactions["outcome"], (COMPLAINT,)) == 0
    columns["complaint_rate"] = _rate(count(complaint), contacts)
    columns["complaints_90d"] = count(complaint & (age < RECENT_DAYS))
    columns["inbound_share"] = _rate(inbound, inbound + outbound)
    columns["inbound_outbound_ratio"] = _rate(inbound, outbound)
    return columns


def interaction_features(interactions: pd.DataFrame, *, as_of: object, timezone: str = "UTC") -> pd.DataFrame:
    """INTERACTION_COLUMNS per customer with any interaction before `as_of` (see the module docstring)."""
    cutoff = as_of_cutoff(as_of, timezone=timezone)
    frame = conform(interactions, "interactions")
    frame = frame[frame["occurred_at"].lt(cutoff) & frame["customer_id"].notna()]
    (frame,) = share_customer_ids(frame)
    categories = frame["customer_id"].dtype.categories
    codes = id_codes(frame)
    columns = interaction_columns(frame, codes, len(categories), cutoff=cutoff, timezone=timezone)
    present = np.bincount(codes, minlength=len(categories)) > 0
    index = pd.Index(categories[present], dtype="str", name="customer_id")
    return pd.DataFrame({name: values[present] for name, values in columns.items()}, index=index)[
        list(INTERACTION_COLUMNS)
    ]
