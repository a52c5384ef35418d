"""factory_boy factories of the profiles app, plus a fast seeder of a small behaviour history."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from profiles.models import Event, ProfileRun, Segment


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    customer = factory.SubFactory(CustomerFactory)
    event_type = Event.EventType.PAGE_VIEW
    occurred_at = factory.LazyFunction(timezone.now)
    channel = "web"
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)


class ProfileRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProfileRun

    as_of = factory.LazyFunction(timezone.now)
    status = ProfileRun.Status.SUCCEEDED


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    kind = Segment.Kind.MANUAL
    rule = factory.LazyFunction(lambda: [{"field": "frequency", "op": "gte", "value": 1}])


CATEGORIES = ("服装 Apparel", "数码 Electronics", "图书 Books", "食品 Food", "美妆 Beauty")


def seed_history(owners: list, *, customers: int = 30, seed: int = 7, now=None) -> list:
    """Customers (spread over ``owners``) with two years of orders and events, written in bulk."""
    from customers.models import Customer
    from orders.models import OrderLine, ProductCategory, SalesOrder

    rng = random.Random(seed)
    now = now or timezone.now()
    categories = [
        ProductCategory.objects.create(name=name, code=f"pc-{seed}-{i}") for i, name in enumerate(CATEGORIES)
    ]
    people = [
        Customer(
            name=f"顾客 Customer {seed}-{i}",
            owner=owners[i % len(owners)],
            gender=rng.choice(["female", "male"]),
            birth_date=(now - timedelta(days=rng.randint(20, 60) * 365)).date(),
            created_at=now - timedelta(days=800),
        )
        for i in range(customers)
    ]
    Customer.objects.bulk_create(people)
    orders, lines, events = [], [], []
    for i, person in enumerate(people):
        # A third buy often, a third rarely, a third stopped buying a year ago.
        n_orders = (rng.randint(4, 9), rng.randint(1, 3), rng.randint(2, 4))[i % 3]
        latest = 400 if i % 3 == 2 else 5
        for k in range(n_orders):
            moment = now - timedelta(days=rng.randint(latest, 700), hours=rng.randint(0, 23))
            order = SalesOrder(
                number=f"SO-P{seed}-{i}-{k}",
                customer=person,
                owner=person.owner,
                status=SalesOrder.Status.COMPLETED,
                channel=rng.choice(["web", "store"]),
                ordered_at=moment,
            )
            orders.append(order)
            for cat in rng.sample(categories, rng.randint(1, 2)):
                amount = Decimal(rng.randint(20, 400))
                lines.append(
                    OrderLine(
                        order=order, category=cat, sku="S", quantity=1, unit_price=amount, line_total=amount
                    )
                )
        for k in range(6):
            kind = rng.choice(["page_view", "app_open", "search", "add_to_cart"])
            events.append(
                Event(
                    customer=person,
                    event_type=kind,
                    occurred_at=now - timedelta(days=rng.randint(1, 300), minutes=k),
                    channel=rng.choice(["web", "app"]),
                    properties={"query": rng.choice(["连衣裙", "laptop", "小说"])}
                    if kind == "search"
                    else {},
                    idempotency_key=f"seed-{seed}-{i}-{k}",
                )
            )
    SalesOrder.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(lines)
    Event.objects.bulk_create(events)
    return people
