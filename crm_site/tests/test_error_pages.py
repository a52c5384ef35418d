"""The product's own 403/404/500 pages, one-line 403 logs, and demo commands refused in production."""

import logging

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from crm_site.log_filters import ForbiddenWithoutTraceback

pytestmark = pytest.mark.django_db


def test_404_is_the_products_page_in_its_layout_and_lists_no_urls(client, sales_user):
    client.force_login(sales_user)
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in html
    assert "vendor/bootstrap/bootstrap.min.css" in html
    assert 'id="main-nav"' in html  # the product's navigation, not a bare page
    assert "URLconf" not in html and "customers/" not in html.split("<main")[1]


def test_403_is_the_products_page_in_both_languages(client, sales_user):
    client.force_login(sales_user)
    response = client.get("/orders/reports/")  # managers only
    assert response.status_code == 403
    assert "You are not allowed to do this" in response.content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = client.get("/orders/reports/").content.decode()
    translation.activate("en")
    assert "您无权执行此操作" in html
    assert '<html lang="zh-hans">' in html


def test_500_page_renders_without_a_request_context():
    response = server_error(RequestFactory().get("/boom/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert "vendor/bootstrap/bootstrap.min.css" in html
    assert "Traceback" not in html


def test_a_forbidden_request_is_logged_as_one_line(client, sales_user, caplog):
    """The configured console handler's filter strips the traceback Django attaches to a 403 record."""
    client.force_login(sales_user)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/orders/reports/")
    records = [record for record in caplog.records if getattr(record, "status_code", None) == 403]
    assert [record.getMessage() for record in records] == ["Forbidden (Permission denied): /orders/reports/"]
    assert records[0].exc_info is None


def test_the_filter_drops_the_traceback_of_403_records_only():
    try:
        raise PermissionError("no")
    except PermissionError:
        import sys

        exc_info = sys.exc_info()
    forbidden = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", (), exc_info)
    forbidden.status_code = 403
    crash = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", (), exc_info)
    crash.status_code = 500
    assert ForbiddenWithoutTraceback().filter(forbidden) and ForbiddenWithoutTraceback().filter(crash)
    assert forbidden.exc_info is None
    assert crash.exc_info is exc_info  # a real error keeps its traceback


def test_the_console_handler_carries_the_one_line_filter(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert "forbidden_one_line" in handler["filters"]
    expected = "crm_site.log_filters.ForbiddenWithoutTraceback"
    assert settings.LOGGING["filters"]["forbidden_one_line"]["()"] == expected


@pytest.mark.parametrize("command", ["seed_demo", "bootstrap_demo_users"])
def test_demo_commands_refuse_to_run_under_production_settings(settings, command, django_user_model):
    settings.CRM_PRODUCTION = True
    size = ["--customers", "0"] if command == "seed_demo" else []
    with pytest.raises(CommandError, match="production settings"):
        call_command(command, *size)
    assert not django_user_model.objects.filter(username="manager").exists()
    call_command(command, "--i-know-this-is-not-production", *size)
    assert django_user_model.objects.filter(username="manager").exists()


def test_production_settings_mark_themselves_as_production():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "settings" / "production.py").read_text()
    assert "CRM_PRODUCTION = True" in text


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/static/favicon.svg")
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])
