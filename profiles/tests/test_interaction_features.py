"""Contact features from the sessions log: known values, no look-ahead, customers never contacted, the churn
model's three held-out AUCs, the sessions log's bulk read and the profile page that shows them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from profiles.pipeline.churn import churn_training_frame, train_churn_model
from profiles.pipeline.features import customer_features, model_matrix
from profiles.pipeline.interactions import INTERACTION_COLUMNS, interaction_features
from profiles.pipeline.interests import preferred_channel

from .pipeline.synthetic import AS_OF as SYNTHETIC_AS_OF
from .pipeline.synthetic import generate

# Exclusive cutoff: as of the end of 2024-06-30 UTC.
AS_OF = pd.Timestamp("2024-07-01", tz="UTC")
NO_EVENTS = pd.DataFrame(columns=["customer_id", "event_type", "occurred_at"])
NO_RESPONSES = pd.DataFrame(columns=["customer_id", "responded"])


def _contacts(rows: list[tuple[str, str, str, str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "occurred_at", "kind", "direction", "outcome"])


@pytest.fixture
def contacts() -> pd.DataFrame:
    return _contacts(
        [
            ("a", "2024-06-30 10:00", "call", "inbound", "complaint"),
            ("a", "2024-06-01 10:00", "email", "outbound", "reached"),
            ("a", "2024-04-01 10:00", "chat", "inbound", ""),  # 90 days before the as-of day: not recent
            ("a", "2023-01-15 10:00", "call", "outbound", "complaint"),  # older than the one-year window
            ("a", "2024-06-15 10:00", "note", "internal", ""),  # a note is not a contact
            ("a", "2024-07-01 00:00", "call", "inbound", "complaint"),  # at the cutoff: not seen
            ("b", "2024-06-20 10:00", "wechat", "inbound", "reached"),
            ("c", "2024-06-10 10:00", "note", "internal", ""),
            ("d", "2024-05-31 10:00", "visit", None, "resolved"),
        ]
    )


def test_interaction_features_compute_each_value_from_a_hand_made_log(contacts: pd.DataFrame) -> None:
    features = interaction_features(contacts, as_of=AS_OF)
    assert list(features.columns) == list(INTERACTION_COLUMNS)
    a = features.loc["a"]
    assert a["contacts_90d"] == 2
    # Three contacts in the year ending with the as-of day, over the year's twelve months.
    assert a["contacts_per_month"] == pytest.approx(3 / (365 / (365.25 / 12)))
    assert a["days_since_contact"] == 0
    assert (a["share_call"], a["share_email"], a["share_chat"], a["share_wechat"], a["share_visit"]) == (
        0.5,
        0.25,
        0.25,
        0.0,
        0.0,
    )
    assert a["complaint_rate"] == 0.5 and a["complaints_90d"] == 1
    assert a["inbound_share"] == 0.5 and a["inbound_outbound_ratio"] == 1.0
    b = features.loc["b"]
    # First contact ten days ago: the first month counts whole, so one contact is one a month.
    assert b["contacts_per_month"] == 1.0 and b["days_since_contact"] == 10
    assert b["share_wechat"] == 1.0 and b["complaint_rate"] == 0.0
    # Only inbound contacts: inbound share 1, and the ratio undefined rather than infinite.
    assert b["inbound_share"] == 1.0 and np.isnan(b["inbound_outbound_ratio"])
    c = features.loc["c"]  # only a note
    assert c["contacts_90d"] == 0 and c["contacts_per_month"] == 0
    assert (
        np.isnan(c["days_since_contact"]) and np.isnan(c["complaint_rate"]) and np.isnan(c["inbound_share"])
    )
    d = features.loc["d"]  # no direction recorded: a contact, but neither inbound nor outbound
    assert d["contacts_90d"] == 1 and d["share_visit"] == 1.0 and d["days_since_contact"] == 30
    assert np.isnan(d["inbound_share"]) and np.isnan(d["inbound_outbound_ratio"])


def test_interaction_features_count_days_in_the_server_time_zone() -> None:
    # 20:00 UTC on 29 June is 04:00 on 30 June in Shanghai: the as-of day itself there.
    log = _contacts([("a", "2024-06-29 20:00", "call", "inbound", "")])
    assert (
        interaction_features(log, as_of=date(2024, 6, 30), timezone="Asia/Shanghai").loc[
            "a", "days_since_contact"
        ]
        == 0
    )
    assert interaction_features(log, as_of=AS_OF).loc["a", "days_since_contact"] == 1


def test_customers_never_contacted_get_neutral_model_values(contacts: pd.DataFrame) -> None:
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "z"],
            "order_id": ["1", "2"],
            "ordered_at": pd.to_datetime(["2024-06-01", "2024-03-02"], utc=True),
            "amount": 10.0,
        }
    )
    customers = pd.DataFrame({"customer_id": ["z"], "created_at": pd.to_datetime(["2024-01-01"], utc=True)})
    features = customer_features(orders, NO_EVENTS, contacts, NO_RESPONSES, as_of=AS_OF, customers=customers)
    z = features.loc["z"]
    # On the profile: zero counts, and no value where there is none to give.
    assert z["contacts_90d"] == 0 and z["contacts_per_month"] == 0 and z["share_call"] == 0
    assert (
        np.isnan(z["days_since_contact"]) and np.isnan(z["complaint_rate"]) and np.isnan(z["inbound_share"])
    )
    matrix = model_matrix(features).loc["z"]
    # For the models: not contacted since they appeared, no complaint heard, neither side starting.
    assert matrix["days_since_contact"] == z["tenure_days"] == 181
    assert matrix["complaint_rate"] == 0.0 and matrix["inbound_share"] == 0.5
    assert model_matrix(features).loc["a", "inbound_share"] == 0.5  # a's true value, not a fill
    assert features.loc["a", "contacts_90d"] == 2


def _orders_for_churn() -> pd.DataFrame:
    rows = [
        ("stays", "2024-01-10"),
        ("stays", "2024-04-15"),
        ("leaves", "2024-01-05"),
        ("late", "2024-02-20"),
    ]
    rows += [("late", "2024-05-01"), ("stays", "2024-06-20")]
    return pd.DataFrame(
        {
            "customer_id": [customer for customer, _ in rows],
            "order_id": [str(i) for i in range(len(rows))],
            "ordered_at": pd.to_datetime([day for _, day in rows], utc=True),
            "amount": 10.0,
        }
    )


def test_training_snapshots_never_see_contacts_after_their_cutoff() -> None:
    orders = _orders_for_churn()
    cutoffs = [pd.Timestamp("2024-03-01", tz="UTC"), pd.Timestamp("2024-04-01", tz="UTC")]
    before = _contacts(
        [
            ("stays", "2024-02-01", "call", "outbound", "reached"),
            ("leaves", "2024-02-10", "chat", "inbound", ""),
        ]
    )
    frame = churn_training_frame(orders, NO_EVENTS, cutoff=cutoffs, horizon_days=60, interactions=before)
    later = pd.concat(
        [
            before,
            # After the first cutoff (seen only by the second), and after both.
            _contacts([("leaves", "2024-03-05", "call", "inbound", "complaint")]),
            _contacts([("leaves", "2024-04-02", "call", "inbound", "complaint")]),
            _contacts([("stays", "2024-05-01", "email", "inbound", "complaint")]),
        ],
        ignore_index=True,
    )
    again = churn_training_frame(orders, NO_EVENTS, cutoff=cutoffs, horizon_days=60, interactions=later)
    columns = ["customer_id", "cutoff", *INTERACTION_COLUMNS]
    first = frame["cutoff"] == cutoffs[0]
    pd.testing.assert_frame_equal(
        frame.loc[first, columns].reset_index(drop=True), again.loc[first, columns].reset_index(drop=True)
    )
    second = again[again["cutoff"] == cutoffs[1]].set_index("customer_id")
    # The complaint of 5 March is in the second snapshot; the ones after 1 April are in neither.
    assert second.loc["leaves", "complaints_90d"] == 1 and second.loc["stays", "complaint_rate"] == 0
    only_before = _contacts([("leaves", "2024-04-02", "call", "inbound", "complaint")])
    unseen = churn_training_frame(
        orders, NO_EVENTS, cutoff=cutoffs, horizon_days=60, interactions=pd.concat([before, only_before])
    )
    pd.testing.assert_frame_equal(frame, unseen)


def _labelled_contacts(frame: pd.DataFrame, complainers: dict[pd.Timestamp, bool]) -> pd.DataFrame:
    """A complaint call ten days before each snapshot's cutoff from the customers whose label there is
    `complainers[cutoff]` (True: those who churn next; False: those who stay), a routine call from others."""
    rows = []
    for row in frame.itertuples():
        complains = row.churned == complainers[row.cutoff]
        rows.append(
            (
                row.customer_id,
                row.cutoff - pd.Timedelta(days=10),
                "call",
                "inbound" if complains else "outbound",
                "complaint" if complains else "reached",
            )
        )
    return _contacts(rows)


@pytest.fixture(scope="module")
def synthetic() -> dict:
    return generate(800, seed=5)


def _churn_frame(data: dict, interactions: pd.DataFrame | None) -> pd.DataFrame:
    cutoffs = [SYNTHETIC_AS_OF - pd.Timedelta(days=180), SYNTHETIC_AS_OF - pd.Timedelta(days=90)]
    return churn_training_frame(
        data["orders"], data["events"], cutoff=cutoffs, horizon_days=90, interactions=interactions
    )


def test_churn_model_records_auc_with_and_without_contacts_and_the_recency_baseline(synthetic: dict) -> None:
    plain = _churn_frame(synthetic, None)
    cutoffs = sorted(plain["cutoff"].unique())
    # Customers about to leave complain first, in both periods: contacts carry real signal.
    log = _labelled_contacts(plain, {cutoffs[0]: True, cutoffs[1]: True})
    model, metrics = train_churn_model(_churn_frame(synthetic, log))
    assert metrics["auc_reason"] is None
    assert metrics["roc_auc_with_interactions"] > metrics["roc_auc_without_interactions"] + 0.05
    assert metrics["roc_auc"] == metrics["roc_auc_with_interactions"]
    assert 0.5 < metrics["roc_auc_recency_baseline"] < metrics["roc_auc_with_interactions"]
    assert metrics["features"] == "purchases+interactions" and "complaint_rate" in model.feature_names


def test_churn_model_drops_contacts_that_lowered_the_held_out_auc(synthetic: dict) -> None:
    plain = _churn_frame(synthetic, None)
    cutoffs = sorted(plain["cutoff"].unique())
    # Drift: complaints came from leavers in the training period but from stayers in the held-out one.
    log = _labelled_contacts(plain, {cutoffs[0]: True, cutoffs[1]: False})
    model, metrics = train_churn_model(_churn_frame(synthetic, log))
    assert metrics["roc_auc_with_interactions"] < metrics["roc_auc_without_interactions"]
    assert metrics["roc_auc"] == metrics["roc_auc_without_interactions"]
    assert metrics["features"] == "purchases" and "complaint_rate" not in model.feature_names


def test_churn_model_without_any_contacts_fits_the_purchase_history_once(synthetic: dict) -> None:
    model, metrics = train_churn_model(_churn_frame(synthetic, None))
    assert metrics["roc_auc_with_interactions"] is None
    assert metrics["roc_auc"] == metrics["roc_auc_without_interactions"] is not None
    assert metrics["features"] == "purchases" and "contacts_90d" not in model.feature_names


def test_preferred_channel_counts_only_contacts_the_customer_started() -> None:
    events = pd.DataFrame(
        {"customer_id": ["a", "a"], "event_type": "page_view", "occurred_at": "2024-01-01", "channel": "app"}
    )
    log = _contacts([("a", "2024-01-02", "call", "outbound", "reached")] * 3)
    log = pd.concat([log, _contacts([("a", "2024-01-02", "email", "inbound", "")])], ignore_index=True)
    assert preferred_channel(events, log).to_dict() == {"a": "app"}


# --- The database: the sessions log's bulk read, the rebuild, the profile page -------------------------


def _log(customer, *, days_ago: float, channel: str, direction: str, outcome: str = "", now=None):
    from sessions_log.models import Interaction

    return Interaction(
        customer=customer,
        channel=channel,
        direction=direction,
        outcome=outcome,
        occurred_at=(now or timezone.now()) - timedelta(days=days_ago),
    )


@pytest.mark.django_db
def test_interaction_feature_rows_read_every_interaction_before_as_of_with_ids_as_text(
    own_customer, others_customer
):
    from sessions_log.models import Interaction
    from sessions_log.selectors import interaction_feature_rows

    now = timezone.now()
    Interaction.objects.bulk_create(
        [
            _log(own_customer, days_ago=3, channel="call", direction="inbound", outcome="complaint", now=now),
            _log(own_customer, days_ago=1, channel="email", direction="outbound", now=now),
            _log(others_customer, days_ago=2, channel="chat", direction="inbound", now=now),
        ]
    )
    chunks = list(interaction_feature_rows(as_of=now - timedelta(days=1, hours=1), chunk_size=1))
    assert [len(chunk) for chunk in chunks] == [1, 1]
    rows = sorted(row[:4] for chunk in chunks for row in chunk)
    assert rows == sorted(
        [
            (str(own_customer.pk), "call", "inbound", "complaint"),
            (str(others_customer.pk), "chat", "inbound", ""),
        ]
    )
    assert all(row[4] < now for chunk in chunks for row in chunk)
    mine = [row for chunk in interaction_feature_rows(customer_ids=[str(own_customer.pk)]) for row in chunk]
    assert sorted(row[1] for row in mine) == ["call", "email"]


@pytest.fixture
def contacted_run(history):
    """A rebuild over `history` with a sessions log: every customer called now and then for two years,
    every third complaining in a chat four days ago."""
    from profiles.services.rebuild import profile_rebuild_sync
    from sessions_log.models import Interaction

    now = timezone.now()
    rows = []
    for index, customer in enumerate(history):
        # Every customer was contacted now and then over two years; every third recently complained.
        for days_ago in range(20 + index % 7, 700, 60):
            rows.append(_log(customer, days_ago=days_ago, channel="call", direction="outbound", now=now))
        if index % 3 == 2:
            rows.append(
                _log(customer, days_ago=4, channel="chat", direction="inbound", outcome="complaint", now=now)
            )
    Interaction.objects.bulk_create(rows)
    return profile_rebuild_sync()


@pytest.mark.django_db
def test_rebuild_with_a_sessions_log_records_both_aucs_and_the_contacts_on_each_profile(
    history, contacted_run
):
    from profiles.models import CustomerProfile

    run = contacted_run
    churn = run.metrics["churn"]
    assert churn["auc_reason"] is None
    for key in ("roc_auc_with_interactions", "roc_auc_without_interactions", "roc_auc_recency_baseline"):
        assert 0.0 <= churn[key] <= 1.0
    assert churn["features"] in ("purchases+interactions", "purchases")
    complainer = history[2]
    contact = CustomerProfile.objects.get(run=run, customer=complainer).interests["contact"]
    assert contact["days_since_contact"] == 4 and contact["complaints_90d"] == 1
    # Twelve outbound calls (22, 82, ... 682 days ago) and the inbound complaint chat.
    assert contact["channels"] == {"call": round(12 / 13, 3), "chat": round(1 / 13, 3)}
    assert contact["inbound_share"] == round(1 / 13, 3) and contact["inbound_outbound_ratio"] == round(
        1 / 12, 2
    )


@pytest.mark.django_db
def test_profile_page_shows_the_contact_features(history, contacted_run, sales_user, client):
    complainer = history[2]
    client.force_login(sales_user)  # history alternates owners: customer 2 is theirs
    response = client.get(reverse("profiles:profile-detail", args=[complainer.pk]))
    assert response.status_code == 200, response
    page = response.content.decode()
    assert 'id="profile-days-since-contact">4<' in page
    assert "Online chat" in page and "Phone call" in page


@pytest.mark.django_db
def test_run_page_shows_the_auc_with_and_without_contacts_and_the_baseline(
    contacted_run, manager_user, client
):
    from django.template.defaultfilters import floatformat

    churn = contacted_run.metrics["churn"]
    client.force_login(manager_user)
    page = client.get(reverse("profiles:run-detail", kwargs={"pk": contacted_run.pk})).content.decode()
    compared = f"{churn['roc_auc_with_interactions']:.3f} / {churn['roc_auc_without_interactions']:.3f}"
    assert f'id="run-churn-auc-compare">{compared}<' in page
    # As the template rounds (half up: an AUC of 0.7875 shows 0.788, where Python's format gives 0.787).
    baseline = floatformat(churn["roc_auc_recency_baseline"], 3)
    assert f'id="run-churn-auc-baseline">{baseline}<' in page


# --- The demo data the benchmark runs on ---------------------------------------------------------------


def test_the_sessions_log_seeder_runs_right_after_the_orders_one():
    from crm_site.demo import seeders

    labels = [label for label, _seed in seeders()]
    assert labels.index("sessions_log") == labels.index("orders") + 1
    assert labels.index("customers") < labels.index("orders") < labels.index("profiles")


@pytest.mark.django_db
def test_demo_complaints_follow_orders_and_mostly_the_last_one(make_user):
    from crm_site.demo import SeedContext
    from customers import demo as customers_demo
    from orders import demo as orders_demo
    from orders.models import SalesOrder
    from sessions_log import demo as sessions_demo
    from sessions_log.models import Interaction

    users = {"manager": make_user("boss", "Manager"), "sales1": make_user("sales1", "Sales")}
    ctx = SeedContext(customers=300, seed=11, users=users, batch_size=500, log=lambda _m: None)
    customers_demo.seed(ctx)
    orders_demo.seed(ctx)
    sessions_demo.seed(ctx)
    complaints = list(
        Interaction.objects.filter(subject__in=sessions_demo.COMPLAINT_SUBJECTS).values_list(
            "customer_id", "occurred_at", "direction", "outcome"
        )
    )
    assert complaints and all(row[2:] == ("inbound", "complaint") for row in complaints)
    orders: dict = {}
    for customer_id, ordered_at in SalesOrder.objects.filter(status__in=SalesOrder.PURCHASED).values_list(
        "customer_id", "ordered_at"
    ):
        orders.setdefault(customer_id, []).append(ordered_at)
    after_last = 0
    for customer_id, moment, *_rest in complaints:
        before = [at for at in orders[customer_id] if at < moment]
        gap = moment - max(before)
        # 1-21 days after the order it follows (a later order in between only shortens the gap).
        assert timedelta(0) < gap <= timedelta(days=21)
        after_last += max(before) == max(orders[customer_id])
    buyers = len(orders)
    # About a quarter of the buyers complain after their last order; other orders rarely.
    assert 0.15 * buyers < after_last < 0.35 * buyers
    assert after_last > 0.5 * len(complaints)


@pytest.mark.django_db
def test_logging_an_interaction_refreshes_the_customers_contact_features(
    history, django_capture_on_commit_callbacks
):
    """The quick log announces the customer after commit, so the profile does not wait for the nightly run."""
    from profiles.models import CustomerProfile
    from profiles.services.rebuild import profile_rebuild_sync
    from sessions_log.services import interaction_log

    profile_rebuild_sync()
    customer = history[0]
    before = CustomerProfile.objects.get(customer=customer, run__is_active=True).interests.get("contact", {})
    with django_capture_on_commit_callbacks(execute=True):
        interaction_log(customer=customer, channel="call", staff=customer.owner, direction="inbound")
    after = CustomerProfile.objects.get(customer=customer, run__is_active=True).interests["contact"]
    assert after["contacts_90d"] == before.get("contacts_90d", 0) + 1
