import pytest

from crm_site.demo import SeedContext
from customers import demo
from customers.models import Address, ContactMethod, Customer, Partner


@pytest.mark.django_db
def test_demo_seed_is_deterministic_and_shares_ids(make_user):
    users = {"sales1": make_user("sales1", "Sales"), "sales2": make_user("sales2", "Sales")}
    ctx = SeedContext(customers=120, seed=7, users=users, batch_size=50, log=lambda _m: None)
    demo.seed(ctx)
    assert Customer.objects.count() == 120 and Address.objects.count() == 120
    assert ContactMethod.objects.filter(kind="mobile").count() == 120
    assert ctx.shared["customer_ids"] == list(
        Customer.objects.order_by("external_id").values_list("pk", flat=True)
    )
    assert set(ctx.shared["customer_owner_ids"]) == {users["sales1"].pk, users["sales2"].pk}
    again = SeedContext(customers=120, seed=7, users=users, batch_size=50, log=lambda _m: None)
    Customer.objects.all().delete()
    Partner.objects.all().delete()
    demo.seed(again)
    assert again.shared["customer_ids"] == ctx.shared["customer_ids"]
