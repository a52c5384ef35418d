"""Demo purchase histories: never in the future, exact totals, deterministic, and runnable on their own."""

import pytest
from django.db.models import Sum
from django.utils import timezone

from crm_site.demo import SeedContext
from orders import demo, demo_purchases
from orders.models import OrderLine, SalesOrder
from orders.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _seed(manager_user, sales_user, seed=3):
    ctx = SeedContext(customers=60, seed=seed, users={"manager": manager_user, "sales1": sales_user}, log=str)
    demo.seed(ctx)  # no ctx.shared["customer_ids"]: reads the customers back from the database
    return ctx


def test_demo_orders_read_customers_from_the_database_and_are_never_in_the_future(manager_user, sales_user):
    CustomerFactory.create_batch(60, owner=sales_user)
    ctx = _seed(manager_user, sales_user)
    assert ctx.shared["order_count"] == SalesOrder.objects.count() > 20
    assert not SalesOrder.objects.filter(ordered_at__gte=timezone.now()).exists()
    sample = SalesOrder.objects.order_by("number")[:20]
    for order in sample:
        lines = OrderLine.objects.filter(order=order).aggregate(total=Sum("line_total"))["total"]
        assert order.total == order.subtotal == lines
        assert order.owner_id == sales_user.pk


def test_demo_orders_are_deterministic(manager_user, sales_user):
    import uuid

    by_code = {
        code: [(uuid.uuid4(), f"{code}-{n}", 10 * (n + 1), None) for n in range(3)]
        for code, _name, _items in demo.CATALOG
    }
    ids = [uuid.uuid4() for _n in range(200)]
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)

    def generate():
        ctx = SeedContext(customers=200, seed=9, users={}, log=str)
        orders, lines = demo_purchases.purchase_chunk(
            ctx, demo_purchases.PurchasePlan(by_code, today.date()), ids, [sales_user.pk] * 200, today, now, 0
        )
        return [(o.pk, o.ordered_at, o.total, o.channel, o.status) for o in orders], len(lines)

    first = generate()
    assert first == generate() and first[1] > len(first[0]) > 100
    assert all(at < now for _pk, at, *_rest in first[0])


def test_demo_seeds_monthly_exchange_rates_once(manager_user, sales_user):
    from orders.models import ExchangeRate
    from orders.selectors.rates import rate_table

    CustomerFactory.create_batch(5, owner=sales_user)
    _seed(manager_user, sales_user)
    rates = ExchangeRate.objects.count()
    assert rates == 3 * 37 and not ExchangeRate.objects.filter(currency="CNY").exists()
    # An order entered today in euros converts (at the demo's rate for this month).
    assert 7.5 < rate_table().rate_on("EUR", timezone.localdate()) < 8.1
    demo._seed_rates(SeedContext(customers=0, seed=4, users={}, log=str), timezone.localtime())
    assert ExchangeRate.objects.count() == rates  # a second seeding keeps the rates there are
