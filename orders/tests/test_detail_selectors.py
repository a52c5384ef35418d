"""The orders detail pages' reads live in selectors (orders.selectors.details), not in the views."""

import pytest
from django.core.files.base import ContentFile
from django.http import Http404

from orders.models import OrderImport, ProjectMember
from orders.selectors import import_list, order_line_get, project_member_ids, project_memberships
from orders.tests.factories import CustomerFactory, OrderLineFactory, ProjectFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db


def _import(owner):
    job = OrderImport(owner=owner, original_name="o.csv")
    job.file.save("o.csv", ContentFile(b"x"), save=False)
    job.save()
    return job


def test_import_list_shows_sales_their_own_imports_and_managers_all(
    settings, tmp_path, sales_user, other_sales_user, manager_user
):
    settings.MEDIA_ROOT = str(tmp_path)
    mine, theirs = _import(sales_user), _import(other_sales_user)
    assert import_list(user=sales_user) == [mine]
    assert {job.pk for job in import_list(user=manager_user)} == {mine.pk, theirs.pk}
    assert len(import_list(user=manager_user, limit=1)) == 1


def test_order_line_get_refuses_a_line_of_another_order(sales_user):
    order = SalesOrderFactory(customer=CustomerFactory(owner=sales_user))
    other = OrderLineFactory(order=SalesOrderFactory(customer=CustomerFactory(owner=sales_user)))
    line = OrderLineFactory(order=order)
    assert order_line_get(order=order, pk=line.pk) == line
    with pytest.raises(Http404):
        order_line_get(order=order, pk=other.pk)


def test_project_members_selectors(sales_user, other_sales_user):
    project = ProjectFactory(customer=CustomerFactory(owner=sales_user))
    ProjectMember.objects.create(project=project, user=other_sales_user)
    assert project_member_ids(project=project) == [other_sales_user.pk]
    assert [member.user for member in project_memberships(project=project)] == [other_sales_user]


def test_product_get_finds_a_catalogue_product_and_404s_an_unknown_one():
    import uuid

    from orders.selectors import product_get
    from orders.tests.factories import ProductFactory

    product = ProductFactory()
    assert product_get(pk=product.pk) == product
    with pytest.raises(Http404):
        product_get(pk=uuid.uuid4())
