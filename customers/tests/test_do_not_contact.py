"""The per-address do-not-contact flag survives a merge (email out refuses flagged addresses)."""

import pytest

from customers.services import customer_merge
from customers.tests.factories import ContactMethodFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("flagged", ["survivor", "loser"])
def test_a_merge_keeps_do_not_contact_whichever_record_had_it(sales_user, flagged):
    survivor = CustomerFactory(owner=sales_user, name="Kept")
    loser = CustomerFactory(owner=sales_user, name="Merged away")
    ContactMethodFactory(
        customer=survivor, kind="email", value="Same@Example.com", do_not_contact=flagged == "survivor"
    )
    ContactMethodFactory(
        customer=loser, kind="email", value="same@example.com", do_not_contact=flagged == "loser"
    )

    customer_merge(survivor=survivor, loser=loser, by=sales_user)

    [kept] = survivor.contact_methods.filter(kind="email")
    assert kept.do_not_contact is True
