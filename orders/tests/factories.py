"""factory_boy factories for the orders app (the profiles tests use them too)."""

from decimal import Decimal

import factory
from django.utils import timezone

from customers.tests.factories import CustomerFactory, UserFactory
from orders.models import Opportunity, OrderLine, Product, ProductCategory, Project, SalesOrder, ServiceOrder
from orders.services.tickets import sla_due_at


class ProductCategoryFactory(factory.django.DjangoModelFactory):
    """A top-level category unless ``parent`` is given (``root`` follows the parent)."""

    class Meta:
        model = ProductCategory
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Category {n}")
    code = factory.Sequence(lambda n: f"cat-{n}")
    parent = None

    @factory.post_generation
    def set_root(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the object
        obj.root = (obj.parent.root or obj.parent) if obj.parent else obj
        if create:
            obj.save(update_fields=["root"])


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(ProductCategoryFactory)
    unit_price = Decimal("99.00")


class SalesOrderFactory(factory.django.DjangoModelFactory):
    """An order in ``status`` (default completed) with no lines; add OrderLineFactory rows."""

    class Meta:
        model = SalesOrder

    number = factory.Sequence(lambda n: f"SO-TEST-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda o: o.customer.owner)
    status = SalesOrder.Status.COMPLETED
    channel = SalesOrder.Channel.WEB
    ordered_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    """A line whose total is quantity × unit price − discount; the order's totals are updated too."""

    class Meta:
        model = OrderLine
        skip_postgeneration_save = True

    order = factory.SubFactory(SalesOrderFactory)
    product = factory.SubFactory(ProductFactory)
    category = factory.LazyAttribute(lambda o: o.product.category if o.product else None)
    sku = factory.LazyAttribute(lambda o: o.product.sku if o.product else "")
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.product.unit_price if o.product else Decimal("10.00"))
    discount = Decimal("0.00")
    line_total = factory.LazyAttribute(lambda o: o.quantity * o.unit_price - o.discount)

    @factory.post_generation
    def update_order_totals(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            order = obj.order
            order.subtotal = sum(order.lines.values_list("line_total", flat=True), Decimal("0.00"))
            order.total = order.subtotal - order.order_discount
            order.save(update_fields=["subtotal", "total"])


class ServiceOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceOrder

    number = factory.Sequence(lambda n: f"SR-TEST-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda o: o.customer.owner)
    subject = factory.Sequence(lambda n: f"Ticket {n}")
    priority = ServiceOrder.Priority.NORMAL
    opened_at = factory.LazyFunction(timezone.now)
    sla_due_at = factory.LazyAttribute(lambda o: sla_due_at(priority=o.priority, opened_at=o.opened_at))


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda o: o.customer.owner)
    name = factory.Sequence(lambda n: f"Project {n}")
    budget = Decimal("10000.00")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda o: o.customer.owner)
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("5000.00")


__all__ = [
    "CustomerFactory",
    "OpportunityFactory",
    "OrderLineFactory",
    "ProductCategoryFactory",
    "ProductFactory",
    "ProjectFactory",
    "SalesOrderFactory",
    "ServiceOrderFactory",
    "UserFactory",
]
