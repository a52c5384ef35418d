"""The UI shell: navigation, global search, the language switch and demo data command."""

import pytest
from django.core.management import call_command
from django.utils import translation

pytestmark = pytest.mark.django_db


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


def test_global_search_shows_the_users_customer_and_not_another_users(client, sales_user, other_sales_user):
    from customers.tests.factories import ContactMethodFactory, CustomerFactory

    mine = CustomerFactory(name="Search Mine", owner=sales_user)
    ContactMethodFactory(customer=mine, kind="mobile", value="+86 138 0013 8000")
    theirs = CustomerFactory(name="Search Theirs", owner=other_sales_user)
    ContactMethodFactory(customer=theirs, kind="mobile", value="+86 138 0013 8000")
    client.force_login(sales_user)
    response = client.get("/search/", {"q": "  138 0013 8000 "})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Search Mine" in page and "Search Theirs" not in page
    assert "/customers/?q=138+0013+8000" not in page  # one hit: no "more" link
    empty = client.get("/search/", {"q": "   "})
    assert empty.status_code == 200 and "Type what you are looking for" in empty.content.decode()


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
