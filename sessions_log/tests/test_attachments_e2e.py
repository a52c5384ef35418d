"""A real browser: attach a file while logging a visit (in place, and without JS), then download it."""

import pytest

from crm_site.testing import browser_login
from customers.tests.factories import CustomerFactory
from sessions_log.models import Attachment, Interaction

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def offer(tmp_path):
    path = tmp_path / "upload" / "报价单 offer.pdf"
    path.parent.mkdir()
    path.write_bytes(PDF)
    return path


def test_a_file_logged_with_a_visit_appears_in_place_and_downloads(
    browser, live_server, make_user, media, offer, tmp_path
):
    user = make_user("vera", "Sales")
    customer = CustomerFactory(owner=user, name="Visit Customer")
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    browser_login(page, live_server.url, "vera")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.locator("details summary", has_text="Visit").first.click()
    page.fill("input[name='log-visit-subject']", "Showroom visit")
    page.set_input_files("input[name='log-visit-attachments']", str(offer))
    url_before = page.url
    page.locator("form[action$='/visit/'] button").click()
    link = page.locator(".interaction-latest a", has_text="报价单 offer.pdf")
    link.wait_for()
    assert page.url == url_before  # updated in place
    attachment = Attachment.objects.get()
    assert attachment.interaction.customer == customer and attachment.size == len(PDF)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "报价单 offer.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == PDF
    context.close()


def test_without_javascript_the_file_is_logged_and_listed_on_the_interaction(
    browser, live_server, make_user, media, offer
):
    user = make_user("walt", "Sales")
    customer = CustomerFactory(owner=user, name="No Script Customer")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_login(page, live_server.url, "walt")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.locator("details summary", has_text="Visit").first.click()
    page.fill("input[name='log-visit-subject']", "Showroom visit")
    page.set_input_files("input[name='log-visit-attachments']", str(offer))
    page.locator("form[action$='/visit/'] button").click()
    page.wait_for_url(f"**{customer.get_absolute_url()}*")
    assert "Logged." in page.locator("body").inner_text()
    interaction = Interaction.objects.get(customer=customer)
    page.goto(f"{live_server.url}{interaction.get_absolute_url()}")
    files = page.locator("#attachments")
    assert "报价单 offer.pdf" in files.inner_text() and "application/pdf" in files.inner_text()
    context.close()


def test_a_refused_file_is_named_in_place_and_its_input_marked(
    browser, live_server, make_user, media, tmp_path
):
    user = make_user("wren", "Sales")
    customer = CustomerFactory(owner=user, name="Refusal Customer")
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64)
    page = browser.new_page()
    browser_login(page, live_server.url, "wren")
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    page.locator("details summary", has_text="Visit").first.click()
    page.fill("input[name='log-visit-subject']", "Showroom visit")
    page.set_input_files("input[name='log-visit-attachments']", str(fake))
    url_before = page.url
    page.locator("form[action$='/visit/'] button").click()
    status = page.locator(".quick-log-status.text-danger")
    status.wait_for()
    assert "“invoice.pdf” says it is application/pdf but its content is not." in status.inner_text()
    assert page.url == url_before
    assert page.locator("input[name='log-visit-attachments']").get_attribute("aria-invalid") == "true"
    assert not Interaction.objects.exists() and not any(media.rglob("*.*"))
    page.close()
