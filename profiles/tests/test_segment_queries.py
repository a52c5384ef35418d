"""The segment member list validates its query string before reading members (issue 9)."""

import pytest
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from profiles.services.segments import segment_create
from profiles.tests.test_views import _published


@pytest.fixture
def segment(sales_user):
    _published(CustomerFactory.create_batch(4, owner=sales_user))
    return segment_create(name="Any buyer", rule=[{"field": "frequency", "op": "gte", "value": 1}])


@pytest.mark.parametrize(
    "query",
    [
        "min_churn=high",
        "min_churn=nan",
        "min_churn=101",
        "rfm_segment=nonsense",
        "min_clv=lots",
        "min_clv=1e999",
        "min_clv=-1",
        "q=%00",
        "rfm_segment=" + "x" * 300,
    ],
)
def test_bad_member_filter_shows_the_error_and_no_members(client, sales_user, segment, query):
    client.force_login(sales_user)
    response = client.get(reverse("profiles:segment-detail", args=[segment.pk]) + "?" + query)
    assert response.status_code == 200
    assert list(response.context["members"]) == []
    assert response.context["form"].errors
    export = client.get(reverse("profiles:segment-export", args=[segment.pk]) + "?" + query)
    assert export.status_code == 400


@pytest.mark.parametrize(
    ("query", "count"),
    [("", 4), ("min_churn=10", 2), ("min_clv=102", 2), ("rfm_segment=champions", 2), ("page=garbage", 4)],
)
def test_member_filters_narrow(client, sales_user, segment, query, count):
    client.force_login(sales_user)
    response = client.get(reverse("profiles:segment-detail", args=[segment.pk]) + "?" + query)
    assert response.status_code == 200
    assert len(response.context["members"]) == count


def test_segment_list_ignores_its_query_string(client, sales_user, segment):
    client.force_login(sales_user)
    assert client.get(reverse("profiles:segment-list") + "?page=garbage&x=%00").status_code == 200
