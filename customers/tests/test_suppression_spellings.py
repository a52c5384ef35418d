"""Issue 13 review, second round: the suppression list covers other spellings of an erased value."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from customers.models import ContactMethod, Suppression
from customers.selectors.privacy import suppressed
from customers.services.customers import contact_method_save
from customers.services.privacy import dsr_create, dsr_erase
from customers.tests.factories import ContactMethodFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def erased(sales_user, manager_user, django_capture_on_commit_callbacks):
    customer = CustomerFactory(owner=sales_user, name="Wang Fang")
    ContactMethodFactory(customer=customer, kind="mobile", value="13800138000")
    ContactMethodFactory(customer=customer, kind="email", value="wang.fang@example.com")
    ContactMethodFactory(customer=customer, kind="phone", value="010-65529988")
    ContactMethodFactory(customer=customer, kind="wechat", value="WangFang88")
    request = dsr_create(
        customer=customer, kind="erasure", law="pipl", received_via="email", user=manager_user
    )
    with django_capture_on_commit_callbacks(execute=True):
        dsr_erase(request=request, user=manager_user)
    return customer


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("phone", "+86 10 6552 9988"),
        ("phone", "0086 10 6552 9988"),
        ("phone", "01065529988"),
        ("email", "wang.fang+1@example.com"),
        ("email", "mailto:Wang.Fang@example.com"),
        ("wechat", "wangfang88"),
        ("qq", "13800138000"),
        ("wechat", "+86 138 0013 8000"),
    ],
)
def test_other_spellings_of_an_erased_value_are_refused(erased, sales_user, kind, value):
    other = CustomerFactory(owner=sales_user, name="Other")
    with pytest.raises(ValidationError, match="cannot be used"):
        contact_method_save(customer=other, kind=kind, value=value)
    assert not ContactMethod.objects.filter(customer=other).exists()


def test_unrelated_values_still_save_and_the_contact_index_is_unchanged(erased, sales_user):
    other = CustomerFactory(owner=sales_user, name="Other")
    for kind, value in [
        ("phone", "+86 10 6552 9989"),
        ("email", "wang.fang2@example.com"),
        ("wechat", "zhangsan"),
        ("qq", "12345678"),
    ]:
        contact_method_save(customer=other, kind=kind, value=value)
    assert ContactMethod.objects.filter(customer=other).count() == 4
    assert Suppression.objects.filter(kind=Suppression.Kind.HANDLE).exists()
    # The blind index of stored contacts is not changed by the comparison (no data migration needed).
    from customers.normalize import normalize_phone

    assert normalize_phone("+86 10 6552 9988") == "861065529988"


def test_a_suppression_written_before_the_candidate_spellings_still_matches(sales_user):
    from customers.selectors.privacy import suppression_hash

    Suppression.objects.create(kind="phone", value_hash=suppression_hash("phone", "010-65529988"))
    Suppression.objects.create(kind="email", value_hash=suppression_hash("email", "li@example.com"))
    assert suppressed("phone", "+86 10 6552 9988")
    assert suppressed("email", "li+news@example.com")
    assert not suppressed("phone", "+86 10 6552 9989")
