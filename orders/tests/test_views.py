"""Pages: scoping (others' objects answer 404), constant query counts, the board move, permissions."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from crm_site.testing import assert_query_count
from orders.models import Opportunity, SalesOrder
from orders.tests.factories import (
    CustomerFactory,
    OpportunityFactory,
    OrderLineFactory,
    ProjectFactory,
    SalesOrderFactory,
    ServiceOrderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


def _others_objects(other_sales_user):
    customer = CustomerFactory(owner=other_sales_user)
    order = SalesOrderFactory(customer=customer)
    return {
        "salesorder": order,
        "serviceorder": ServiceOrderFactory(customer=customer),
        "project": ProjectFactory(customer=customer),
        "opportunity": OpportunityFactory(customer=customer),
    }


def test_others_object_urls_answer_404(sales_client, other_sales_user):
    objects = _others_objects(other_sales_user)
    urls = []
    for name, obj in objects.items():
        urls += [
            reverse(f"orders:{name}-detail", args=[obj.pk]),
            reverse(f"orders:{name}-edit", args=[obj.pk]),
        ]
    for url in urls:
        assert sales_client.get(url).status_code == 404, url
    posts = [
        (reverse("orders:salesorder-transition", args=[objects["salesorder"].pk]), {"status": "cancelled"}),
        (reverse("orders:opportunity-move", args=[objects["opportunity"].pk]), {"stage": "won"}),
        (reverse("orders:serviceorder-transition", args=[objects["serviceorder"].pk]), {"status": "closed"}),
        (
            reverse("orders:milestone-create", args=[objects["project"].pk]),
            {"name": "x", "due_date": "2030-01-01"},
        ),
    ]
    for url, data in posts:
        assert sales_client.post(url, data).status_code == 404, url
    objects["salesorder"].refresh_from_db()
    assert objects["salesorder"].status == SalesOrder.Status.COMPLETED


def test_others_records_are_not_listed(sales_client, sales_user, other_sales_user):
    mine = SalesOrderFactory(customer=CustomerFactory(owner=sales_user), number="SO-MINE")
    SalesOrderFactory(customer=CustomerFactory(owner=other_sales_user), number="SO-THEIRS")
    page = sales_client.get(reverse("orders:salesorder-list")).content.decode()
    assert mine.number in page and "SO-THEIRS" not in page


def test_manager_sees_every_order(client, manager_user, other_sales_user):
    order = SalesOrderFactory(customer=CustomerFactory(owner=other_sales_user))
    client.force_login(manager_user)
    assert client.get(reverse("orders:salesorder-detail", args=[order.pk])).status_code == 200


def _page_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("url_name", "page_size", "factory"),
    [
        (
            "orders:salesorder-list",
            25,
            lambda c, i: (
                OrderLineFactory(order=SalesOrderFactory(customer=c, number=f"SO-QC-{i:04d}")).order.number
            ),
        ),
        (
            "orders:serviceorder-list",
            25,
            lambda c, i: ServiceOrderFactory(customer=c, number=f"SR-QC-{i:04d}").number,
        ),
        ("orders:project-list", 25, lambda c, i: ProjectFactory(customer=c, name=f"Project QC-{i:04d}").name),
        (
            "orders:opportunity-list",
            25,
            lambda c, i: OpportunityFactory(customer=c, name=f"Deal QC-{i:04d}").name,
        ),
        (
            "orders:opportunity-board",
            50,
            lambda c, i: OpportunityFactory(customer=c, name=f"Deal QC-{i:04d}").name,
        ),
    ],
)
def test_list_query_count_is_the_baseline_at_two_sizes(
    sales_client, sales_user, url_name, page_size, factory
):
    customer = CustomerFactory(owner=sales_user)
    url = reverse(url_name)
    labels: list[str] = []

    def grow(k):
        labels.extend(factory(customer, i) for i in range(len(labels), len(labels) + k))

    few, many = assert_query_count(url_name, lambda: _page_of(sales_client, url), grow=grow, sizes=(3, 30))
    assert all(label in few for label in labels[:3]), "every row of a short list is on the page"
    assert sum(label in many for label in labels) == min(30, page_size)


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/board", "//evil.example/board", "/\\evil.example", "http:/\\evil.example"],
)
def test_board_move_changes_stage_and_never_redirects_off_site(sales_client, sales_user, next_url):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=sales_user))
    response = sales_client.post(
        reverse("orders:opportunity-move", args=[opportunity.pk]), {"stage": "negotiation", "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:opportunity-board")
    opportunity.refresh_from_db()
    assert opportunity.stage == Opportunity.Stage.NEGOTIATION and opportunity.probability == 75
    board = sales_client.get(reverse("orders:opportunity-board")).content.decode()
    assert opportunity.name in board


def test_board_move_returns_to_a_local_next_page(sales_client, sales_user):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=sales_user))
    back = reverse("orders:opportunity-detail", args=[opportunity.pk])
    response = sales_client.post(
        reverse("orders:opportunity-move", args=[opportunity.pk]), {"stage": "proposal", "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back


def test_board_move_to_lost_without_reason_is_refused(sales_client, sales_user):
    opportunity = OpportunityFactory(customer=CustomerFactory(owner=sales_user))
    response = sales_client.post(
        reverse("orders:opportunity-move", args=[opportunity.pk]), {"stage": "lost"}, follow=True
    )
    opportunity.refresh_from_db()
    assert opportunity.stage == Opportunity.Stage.QUALIFICATION
    assert "Say why the opportunity was lost." in response.content.decode()


def test_create_order_page_then_add_line(sales_client, sales_user, phone):
    customer = CustomerFactory(owner=sales_user, external_id="C-77")
    response = sales_client.post(
        reverse("orders:salesorder-create"),
        {
            "customer": "C-77",
            "channel": "web",
            "ordered_at": "2026-01-05T10:00",
            "currency": "CNY",
            "order_discount": "0",
            "notes": "",
        },
    )
    order = SalesOrder.objects.get(customer=customer)
    assert response.status_code == 302
    sales_client.post(
        reverse("orders:orderline-add", args=[order.pk]),
        {"product": phone.pk, "quantity": 2, "discount": "0"},
    )
    order.refresh_from_db()
    assert order.total == Decimal("3998.00")


def test_create_order_for_someone_elses_customer_is_refused(sales_client, other_sales_user):
    CustomerFactory(owner=other_sales_user, external_id="C-THEIRS")
    response = sales_client.post(
        reverse("orders:salesorder-create"),
        {
            "customer": "C-THEIRS",
            "channel": "web",
            "ordered_at": "2026-01-05T10:00",
            "currency": "CNY",
            "order_discount": "0",
        },
    )
    assert response.status_code == 200
    assert "C-THEIRS" in response.content.decode() and not SalesOrder.objects.exists()


def test_illegal_transition_from_page_shows_message(sales_client, sales_user):
    order = SalesOrderFactory(customer=CustomerFactory(owner=sales_user), status=SalesOrder.Status.DRAFT)
    response = sales_client.post(
        reverse("orders:salesorder-transition", args=[order.pk]), {"status": "shipped"}, follow=True
    )
    assert "cannot go from Draft to Shipped" in response.content.decode()


def _chart_data(html):
    import re

    found = re.search(r'<script id="orders-chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the reports page carries its chart data"
    return json.loads(found.group(1))


def test_reports_are_for_managers_only_and_chart_the_right_numbers(client, sales_user, manager_user):
    from django.utils import timezone

    from orders.tests.factories import ProductCategoryFactory, ProductFactory

    client.force_login(sales_user)
    assert client.get(reverse("orders:reports")).status_code == 403
    phones = ProductCategoryFactory(name="Phones")
    cases = ProductCategoryFactory(name="Cases", parent=phones)
    books = ProductCategoryFactory(name="Books")
    order = SalesOrderFactory()
    OrderLineFactory(
        order=order, product=ProductFactory(category=phones, unit_price=Decimal("100.00")), quantity=2
    )
    OrderLineFactory(order=order, product=ProductFactory(category=cases, unit_price=Decimal("12.50")))
    OrderLineFactory(
        order=SalesOrderFactory(), product=ProductFactory(category=books, unit_price=Decimal("30.00"))
    )
    # Not purchased: counts for no revenue.
    OrderLineFactory(
        order=SalesOrderFactory(status=SalesOrder.Status.CANCELLED),
        product=ProductFactory(category=books, unit_price=Decimal("999.00")),
    )
    ServiceOrderFactory(priority="high", sla_breached=True)
    ServiceOrderFactory(priority="high")
    ServiceOrderFactory(priority="low")
    OpportunityFactory(stage="negotiation", amount=Decimal("700.00"))
    OpportunityFactory(stage="negotiation", amount=Decimal("300.00"))
    OpportunityFactory(stage="qualification", amount=Decimal("5000.00"))

    client.force_login(manager_user)
    response = client.get(reverse("orders:reports"))
    assert response.status_code == 200
    data = _chart_data(response.content.decode())
    # The running month is labelled as not over yet (and its point drawn apart: partialIndex).
    this_month = timezone.localtime().strftime("%Y-%m")
    assert len(data["months"]) == 24 and data["months"][-1] == f"{this_month} (partial)"
    assert data["partialIndex"] == 23 and data["months"][-2] == (
        timezone.localtime().replace(day=1) - timedelta(days=1)
    ).strftime("%Y-%m")
    assert [Decimal(x) for x in data["revenue"]] == [Decimal("0")] * 23 + [Decimal("242.50")]
    # The sub-category's revenue is folded into its top-level category.
    assert data["categories"] == ["Phones", "Books"]
    assert [Decimal(x) for x in data["categoryRevenue"]] == [Decimal("212.50"), Decimal("30.00")]
    assert data["priorities"] == ["Low", "Normal", "High", "Urgent"]
    assert data["breached"] == [0, 0, 1, 0] and data["onTime"] == [1, 0, 1, 0]
    assert data["stages"] == ["Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"]
    assert [Decimal(x) for x in data["pipeline"]] == [
        Decimal(x) for x in ("5000", "0", "0", "1000", "0", "0")
    ]


def test_marketing_staff_cannot_open_orders(client, make_user):
    client.force_login(make_user("mkt", "Marketing"))
    assert client.get(reverse("orders:salesorder-list")).status_code == 403


def test_customer_panel_and_dashboard_card_render(sales_client, sales_user):
    from django.template.loader import render_to_string

    from orders.panels import customer_panel_context

    customer = CustomerFactory(owner=sales_user)
    for _i in range(4):
        OrderLineFactory(order=SalesOrderFactory(customer=customer))
    ServiceOrderFactory(customer=customer)
    OpportunityFactory(customer=customer, amount=Decimal("100.10"))
    # Exact with the rows above and with 10 more orders, tickets and deals (the checks below look at the
    # first measurement).

    def grow(k):
        for _i in range(k):
            OrderLineFactory(order=SalesOrderFactory(customer=customer))
            ServiceOrderFactory(customer=customer)
            OpportunityFactory(customer=customer)

    context, _more = assert_query_count(
        "orders:panels.customer_panel_context",
        lambda: customer_panel_context(customer=customer, user=sales_user),
        grow=grow,
        sizes=(0, 10),
    )
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = sales_user  # the panel shows what the role's permissions open (the perms context)
    html = render_to_string("orders/includes/_customer_panel.html", {"ctx": context}, request=request)
    assert context["order_count"] == 4 and context["pipeline_total"].amount == Decimal("100.10")
    assert "100.10" in html
    from orders.panels import dashboard_card_context

    card = render_to_string(
        "orders/includes/_dashboard_card.html", {"ctx": dashboard_card_context(user=sales_user)}
    )
    assert "100" in card


def test_selectors_hide_others_objects(sales_user, other_sales_user, manager_user):
    from django.http import Http404

    from orders.selectors import opportunity_get, project_get, sales_order_get, service_order_get

    objects = _others_objects(other_sales_user)
    getters = {
        "salesorder": sales_order_get,
        "serviceorder": service_order_get,
        "project": project_get,
        "opportunity": opportunity_get,
    }
    for name, getter in getters.items():
        with pytest.raises(Http404):
            getter(user=sales_user, pk=objects[name].pk)
        assert getter(user=manager_user, pk=objects[name].pk) == objects[name]
