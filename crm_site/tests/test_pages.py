"""The UI shell: navigation, global search, the language switch and demo data command."""

import pytest
from django.core.management import call_command
from django.urls import path
from django.utils import translation

from crm_site.views import DashboardView, global_search

pytestmark = pytest.mark.django_db


@pytest.mark.mongo
def test_dashboard_shows_the_navigation_for_the_six_modules(client, sales_user):
    client.force_login(sales_user)
    html = client.get("/").content.decode()
    for label in ["Customers", "Interactions", "Orders", "Profiles", "Marketing", "Knowledge"]:
        assert label in html
    assert 'name="q"' in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html


def test_switching_to_chinese_renders_the_dashboard_in_chinese(client, sales_user):
    client.force_login(sales_user)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "仪表板" in html
    assert "客户" in html
    translation.activate("en")


def test_english_is_the_default_language(client, sales_user):
    client.force_login(sales_user)
    assert '<html lang="en">' in client.get("/").content.decode()


def test_global_search_hands_the_query_to_the_customers_list(client, sales_user, other_sales_user):
    from customers.tests.factories import ContactMethodFactory, CustomerFactory

    mine = CustomerFactory(name="Search Mine", owner=sales_user)
    ContactMethodFactory(customer=mine, kind="mobile", value="+86 138 0013 8000")
    theirs = CustomerFactory(name="Search Theirs", owner=other_sales_user)
    ContactMethodFactory(customer=theirs, kind="mobile", value="+86 138 0013 8000")
    client.force_login(sales_user)
    response = client.get("/search/", {"q": "  138 0013 8000 "})
    assert response.status_code == 302
    assert response["Location"] == "/customers/?q=138+0013+8000"
    page = client.get(response["Location"]).content.decode()
    assert "Search Mine" in page and "Search Theirs" not in page
    empty = client.get("/search/", {"q": "   "})
    assert empty.status_code == 302 and empty["Location"] == "/customers/"


# A site without the customers module (the URLconf of the test below): search has nowhere to go.
urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("search/", global_search, name="global-search"),
]


def test_global_search_without_the_customers_module_says_so_on_the_dashboard(client, sales_user, settings):
    from django.contrib.messages import get_messages

    settings.ROOT_URLCONF = __name__
    client.force_login(sales_user)
    response = client.get("/search/", {"q": "zhang"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Customer search is not available yet."]


def test_seed_demo_creates_the_demo_logins_and_refuses_a_negative_size(capsys):
    from django.contrib.auth import get_user_model
    from django.core.management.base import CommandError

    call_command("seed_demo", "--customers", "0")
    assert get_user_model().objects.filter(username__in=["admin", "manager", "sales1"]).count() == 3
    with pytest.raises(CommandError, match="--customers must be 0 or more"):
        call_command("seed_demo", "--customers", "-5")


def test_bootstrap_demo_users_prints_every_login(capsys):
    call_command("bootstrap_demo_users")
    out = capsys.readouterr().out
    for username in ["admin", "manager", "sales1", "sales2", "marketing", "service"]:
        assert username in out
