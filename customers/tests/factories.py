"""factory_boy factories for the customers app (other apps' tests use them too)."""

import factory
from django.contrib.auth import get_user_model

from customers.models import Address, ContactMethod, Customer, Partner, Relationship, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"owner{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n:05d}")
    owner = factory.SubFactory(UserFactory)
    lifecycle_stage = Customer.LifecycleStage.CUSTOMER
    source = Customer.Source.WEB


class ContactMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactMethod

    customer = factory.SubFactory(CustomerFactory)
    kind = ContactMethod.Kind.MOBILE
    value = factory.Sequence(lambda n: f"139{n:08d}")
    # value_hash / value_tail: derived in ContactMethod.save()


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    label = "Home"
    province = "上海市"
    city = "上海市"
    district = "浦东新区"
    street = factory.Sequence(lambda n: f"世纪大道 {n} 号")
    is_default = True


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    kind = Partner.Kind.RESELLER


class RelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relationship

    customer = factory.SubFactory(CustomerFactory)
    related_customer = factory.SubFactory(CustomerFactory)
    kind = Relationship.Kind.HOUSEHOLD
