"""The CLV models proved through the product's own path, on purchase histories with known parameters.

Customers are drawn from a BG/NBD process (purchase rate ~ Gamma(r, alpha) per week, dropout after each
repeat purchase with probability ~ Beta(a, b)) and spend per purchase from a Gamma-Gamma process
(z ~ Gamma(p, nu), nu ~ Gamma(q, gamma)). Their orders, from 1998 on (before 2000), at 07:00 in
Shanghai (23:00 UTC the day before) and at other hours, some of them free, are written to a CSV file
and imported with the order import service as a manager creating the customers; the profiles are then
rebuilt as of 1999-12-31 through the rebuild service. The test checks that

- every profile stores the model inputs the simulation implies (repeat purchase days, recency, age T
  counted in Shanghai calendar days, nothing after the as-of day),
- the run recovers the seven population parameters within two standard errors (from the Hessian of
  the log-likelihood, recorded on the run),
- the forecast for the 273 days after the as-of day (a horizon chosen in the settings) matches the
  simulated future in total and beats a naive "same rate as so far" forecast,
- the run page and the profile page show what was fitted and what the model used.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pytest
from django.urls import reverse

from customers.models import Customer
from orders.services.import_rows import row_source
from orders.services.imports import orders_import
from orders.tests.factories import ProductCategoryFactory
from profiles.models import CustomerProfile, ProfileRun
from profiles.services.rebuild import end_of_day, profile_rebuild_sync

TRUE_BGNBD = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}  # alpha per week (the pipeline's time unit)
TRUE_GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "v": 15.0}  # v is the papers' gamma
CUSTOMERS = 3000
SEED = 20260
FIRST_DAY = date(1998, 7, 1)
COHORT_DAYS = 39 * 7  # first purchases spread over 39 weeks
AS_OF = date(1999, 12, 31)
HOLDOUT_DAYS = 273
# Local times of day in the server time zone; 07:00 in Shanghai is the previous day in UTC.
HOURS = ("07:00", "07:00", "12:30", "21:45")
FREE_FIRST_ORDER = 0.05  # share of customers whose first order is a free gift (amount 0.00)


@dataclass
class Simulated:
    """Per customer (external id): purchase days (offsets from FIRST_DAY) with amounts."""

    days: dict[str, list[int]]
    rows: list[tuple[str, str, str, str]]  # external id, order number, local date-time, amount


def simulate() -> Simulated:
    rng = np.random.default_rng(SEED)
    rate = rng.gamma(TRUE_BGNBD["r"], 1.0 / TRUE_BGNBD["alpha"], CUSTOMERS)
    dropout = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], CUSTOMERS)
    spend_rate = rng.gamma(TRUE_GAMMA_GAMMA["q"], 1.0 / TRUE_GAMMA_GAMMA["v"], CUSTOMERS)
    last_day = (AS_OF - FIRST_DAY).days + HOLDOUT_DAYS
    days: dict[str, list[int]] = {}
    rows = []
    for index in range(CUSTOMERS):
        key = f"SIM-{index:05d}"
        first = int(rng.integers(0, COHORT_DAYS))
        purchases, weeks = [first], 0.0
        # BG/NBD: exponential gaps while active; after each repeat purchase the customer may drop out.
        while True:
            weeks += rng.exponential(1.0 / rate[index])
            day = first + int(np.floor(weeks * 7.0))
            if day > last_day:
                break
            purchases.append(day)
            if rng.random() < dropout[index]:
                break
        free_first = rng.random() < FREE_FIRST_ORDER
        days[key] = sorted(set(purchases))
        for number, day in enumerate(purchases):
            amount = max(round(float(rng.gamma(TRUE_GAMMA_GAMMA["p"], 1.0 / spend_rate[index])), 2), 0.01)
            if number == 0 and free_first:
                # Gamma-Gamma only sees repeat purchases; BG/NBD must still count this day.
                amount = 0.0
            moment = f"{FIRST_DAY + timedelta(days=day):%Y-%m-%d} {HOURS[int(rng.integers(len(HOURS)))]}"
            rows.append((key, f"{key}-{number}", moment, f"{amount:.2f}"))
    return Simulated(days=days, rows=rows)


def _import(simulated: Simulated, user, tmp_path) -> None:
    ProductCategoryFactory(name="Gifts", code="gifts")
    path = tmp_path / "orders.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["customer_external_id", "order_number", "order_date", "category", "quantity", "amount"]
        )
        for key, number, moment, amount in simulated.rows:
            writer.writerow([key, number, moment, "gifts", 1, amount])
    result = orders_import(
        rows=row_source(path, "orders.csv"), user=user, dry_run=False, create_customers=True
    )
    assert result.errors == [] and result.written
    assert result.customers_created == CUSTOMERS and result.orders == len(simulated.rows)


def _within_two_standard_errors(fit: dict, truth: dict[str, float]) -> dict[str, float]:
    """{parameter: (estimate - true) / SE}; every SE must be a positive number."""
    errors = fit["standard_errors"]
    assert all(errors[name] is not None and errors[name] > 0 for name in truth), errors
    return {name: (fit["params"][name] - true) / errors[name] for name, true in truth.items()}


@pytest.mark.django_db
def test_simulated_bgnbd_gamma_gamma_history_imported_and_rebuilt_recovers_the_truth(
    settings, manager_user, tmp_path, client
) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.PROFILES_FORECAST_HORIZONS = ["90", "365", str(HOLDOUT_DAYS)]
    simulated = simulate()
    _import(simulated, manager_user, tmp_path)

    run = profile_rebuild_sync(as_of=end_of_day(AS_OF), requested_by=manager_user)
    assert run.status == ProfileRun.Status.SUCCEEDED, run.error
    ids = dict(Customer.objects.values_list("external_id", "pk"))
    profiles = {
        profile.customer_id: profile
        for profile in CustomerProfile.objects.filter(run=run, customer__in=ids.values())
    }
    as_of_day = (AS_OF - FIRST_DAY).days

    # 1. What the model used, per customer: Shanghai calendar days up to and including the as-of day.
    mismatches, expected_repeat_days = [], 0
    for key, days in simulated.days.items():
        history = [day for day in days if day <= as_of_day]
        profile = profiles[ids[key]]
        if not history:
            assert profile.model_frequency is None, key
            continue
        expected = (len(history) - 1, float(history[-1] - history[0]), float(as_of_day - history[0]))
        expected_repeat_days += expected[0]
        stored = (profile.model_frequency, profile.model_recency_days, profile.model_age_days)
        if stored != expected:
            mismatches.append((key, stored, expected))
    assert mismatches == []

    # 2. The seven parameters, within two standard errors, and what each model was fitted on.
    fits = run.model_fits
    bgnbd, gamma_gamma = fits["bgnbd"], fits["gamma_gamma"]
    buyers = sum(1 for days in simulated.days.values() if days[0] <= as_of_day)
    assert bgnbd["n_customers"] == buyers and bgnbd["n_repeat_transactions"] == expected_repeat_days
    assert bgnbd["converged"] is True and gamma_gamma["converged"] is True
    assert bgnbd["log_likelihood"] < 0 and gamma_gamma["log_likelihood"] < 0
    z_bgnbd = _within_two_standard_errors(bgnbd, TRUE_BGNBD)
    z_gamma_gamma = _within_two_standard_errors(gamma_gamma, TRUE_GAMMA_GAMMA)
    assert all(abs(z) < 2.0 for z in (z_bgnbd | z_gamma_gamma).values()), (fits, z_bgnbd, z_gamma_gamma)
    assert fits["churn"]["n_customers"] > 0 and fits["churn"]["log_likelihood"] < 0

    # 3. The forecast for the holdout against the simulated future (purchase days after the as-of day).
    horizon = str(HOLDOUT_DAYS)
    expected_future, naive_future, actual_future = [], [], []
    for key, days in simulated.days.items():
        profile = profiles[ids[key]]
        if profile.model_frequency is None:
            continue
        future = sum(1 for day in days if as_of_day < day <= as_of_day + HOLDOUT_DAYS)
        assert set(profile.forecast) == {"90", "365", horizon}
        expected_future.append(profile.forecast[horizon]["purchases"])
        # Naive: the customer keeps the repeat-purchase rate seen so far.
        naive_future.append(profile.model_frequency / max(profile.model_age_days, 1.0) * HOLDOUT_DAYS)
        actual_future.append(future)
    model, naive, actual = (
        np.array(values, dtype=float) for values in (expected_future, naive_future, actual_future)
    )
    assert model.sum() == pytest.approx(actual.sum(), rel=0.1), (model.sum(), actual.sum())
    assert abs(model.sum() - actual.sum()) < abs(naive.sum() - actual.sum())
    assert np.mean((model - actual) ** 2) < np.mean((naive - actual) ** 2)

    # 4. The run page and a profile page show what was fitted and what the model used.
    client.force_login(manager_user)
    page = client.get(reverse("profiles:run-detail", args=[run.pk])).content.decode()
    assert 'id="run-model-fits"' in page and f"{bgnbd['n_repeat_transactions']:,}" in page
    assert f"{bgnbd['params']['alpha']:.4f}" in page and f"{bgnbd['standard_errors']['alpha']:.4f}" in page
    regular = max(profiles.values(), key=lambda profile: profile.model_frequency or 0)
    card = client.get(reverse("profiles:profile-detail", args=[regular.customer_id])).content.decode()
    assert f"{regular.model_frequency} repeat purchase days" in card
    assert f'data-horizon="{HOLDOUT_DAYS}"' in card


@pytest.mark.django_db
def test_the_run_page_admin_and_profile_card_show_fits_horizons_and_model_inputs(
    client, manager_user
) -> None:
    from customers.tests.factories import CustomerFactory
    from profiles.tests.factories import ProfileRunFactory

    report = {
        "n_customers": 2357,
        "n_repeat_transactions": 2457,
        "log_likelihood": -9582.43,
        "converged": True,
        "params": {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4258},
        "standard_errors": {"r": 0.0126, "alpha": 0.3782, "a": 0.1857, "b": 0.7054},
    }
    churn = {"n_customers": 900, "n_repeat_transactions": 1500, "log_likelihood": -512.5, "converged": None}
    run = ProfileRunFactory(is_active=True, model_fits={"bgnbd": report, "gamma_gamma": None, "churn": churn})
    customer = CustomerFactory(owner=manager_user)
    CustomerProfile.objects.create(
        run=run,
        customer=customer,
        computed_at=run.as_of,
        forecast={"365": {"purchases": 2.5, "spend": 80.0}, "30": {"purchases": 0.25, "spend": None}},
        model_frequency=4,
        model_recency_days=120.0,
        model_age_days=300.0,
    )
    manager_user.is_superuser = True
    manager_user.save()
    client.force_login(manager_user)

    page = client.get(reverse("profiles:run-detail", args=[run.pk])).content.decode()
    assert "2,457" in page and "4.4136 ± 0.3782" in page and "-9582.43" in page
    assert "Not fitted in this run" in page  # Gamma-Gamma was skipped
    assert "n/a" in page  # the churn model had no stopping criterion to meet

    admin = client.get(reverse("admin:profiles_profilerun_change", args=[run.pk])).content.decode()
    assert "repeat transactions 2457" in admin and "alpha=4.414 ± 0.38" in admin

    card = client.get(reverse("profiles:profile-detail", args=[customer.pk])).content.decode()
    assert "Model inputs: 4 repeat purchase days, 120 days from first to last purchase, age 300 days." in card
    # Horizons shortest first, with the expected spend where the spend model gave one.
    assert card.index('data-horizon="30"') < card.index('data-horizon="365"')
    assert "0.25 purchases expected" in card and "2.50 purchases expected · ¥80." in card
