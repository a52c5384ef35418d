"""Every URL of every app, walked by a second sales user (GET and POST) against the first one's records.

The table (``second_user_table.py``) says what B must get for each URL name; a URL pattern without an
entry fails ``test_every_url_pattern_has_an_entry``. Each case checks the exact status, that no response
(page, redirect, JSON, CSV) names any of A's records, that a redirect goes where the table says, and that
no row of A's changed and no new row points at one of A's records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from crm_site.testing import create_user, shared_test_data
from crm_site.tests.second_user_table import SKIPPED, SKIPPED_PREFIXES, TABLE, Entry, World, build_world

pytestmark = pytest.mark.django_db

# Every model of the project apps is compared before and after each request.
PROJECT_LABELS = ("customers", "orders", "profiles", "sessions_log", "marketing", "knowledge", "crm_site")


def url_names() -> list[str]:
    """The full names (with namespaces) of every URL pattern, except the skipped sub-trees."""
    found: list[str] = []
    # Static and media files (served by Django only with DEBUG on): files, not records.
    files = tuple(url.lstrip("/") for url in (settings.STATIC_URL, settings.MEDIA_URL) if url and url != "/")

    def visit(patterns: list[Any], namespace: str, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if any(route.startswith(skipped) for skipped in SKIPPED_PREFIXES):
                    continue
                inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                visit(pattern.url_patterns, inner, route)
            elif isinstance(pattern, URLPattern):
                if files and route.lstrip("^").startswith(files):
                    continue
                name = pattern.name or f"<unnamed: {route}>"
                found.append(f"{namespace}:{name}" if namespace else name)

    visit(get_resolver().url_patterns, "", "")
    return found


def _cases() -> list[Any]:
    cases = []
    for name, entry in TABLE.items():
        for variant in entry.variants:
            for method in ("GET", "POST"):
                cases.append(pytest.param(name, variant, method, id=f"{method} {name} [{variant}]"))
    return cases


def test_every_url_pattern_has_an_entry():
    missing = [name for name in url_names() if name not in TABLE and name not in SKIPPED]
    assert not missing, (
        f"URL patterns without an entry in crm_site/tests/second_user_table.py: {', '.join(missing)}. "
        "Add one saying what a second sales user gets (GET and POST) for the first user's records."
    )


def test_every_entry_names_an_existing_url():
    names = set(url_names())
    stale = sorted(name for name in [*TABLE, *SKIPPED] if name not in names)
    assert not stale, f"Entries for URL names that no longer exist: {', '.join(stale)}"


def snapshot() -> dict[str, dict[str, dict[str, Any]]]:
    """Every row of every project model, as {model label: {pk: field values}}."""
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for label in PROJECT_LABELS:
        if label not in apps.app_configs:
            continue
        for model in apps.get_app_config(label).get_models():
            rows[model._meta.label] = {
                str(values["id"] if "id" in values else values["pk"]): values
                for values in model.objects.values()
            }
    return rows


def assert_nothing_of_a_changed(before: dict, after: dict, world: World, case: str) -> None:
    a_pks = world.a_pks()
    for label, old_rows in before.items():
        new_rows = after[label]
        for pk, values in old_rows.items():
            assert pk in new_rows, f"{case}: {label} {pk} was deleted"
            changed = {k: (v, new_rows[pk][k]) for k, v in values.items() if new_rows[pk][k] != v}
            # The only field a read may touch is a last-used stamp on B's own API token.
            changed.pop("last_used_at", None)
            assert not changed, f"{case}: {label} {pk} changed: {changed}"
        for pk in new_rows.keys() - old_rows.keys():
            pointing = {k: v for k, v in new_rows[pk].items() if str(v) in a_pks}
            assert not pointing, f"{case}: a new {label} row points at A's records: {pointing}"


def body_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    text = content.decode("utf-8", errors="replace")
    if response.get("Content-Type", "").startswith("application/json"):
        # JSON escapes non-ASCII text: compare the decoded strings too.
        text += json.dumps(json.loads(content or b"null"), ensure_ascii=False)
    return text


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """The world, built once for the module; every case starts from it as built (a rolled-back
    savepoint on SQL, the written collections restored on MongoDB: ``shared_test_data``)."""

    def build() -> World:
        from crm_site.roles import sync_roles

        sync_roles()
        a, b = create_user("sales_a", "Sales"), create_user("sales_b", "Sales")
        return build_world(a=a, b=b, make_user=create_user)

    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        with shared_test_data(django_db_blocker, build) as world:
            yield world


@pytest.fixture
def world(shared_world, db) -> World:
    return shared_world


def _request(client: Any, entry: Entry, world: World, url: str, method: str) -> Any:
    if entry.api:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {world['b_token']}"}
        if method == "GET":
            return client.get(url, **headers)
        return client.post(url, json.dumps(entry.data(world)), content_type="application/json", **headers)
    client.force_login(world.b)
    if method == "GET":
        return client.get(url, entry.query(world))
    return client.post(url, entry.data(world))


@pytest.mark.parametrize(("url_name", "variant", "method"), _cases())
def test_second_sales_user_cannot_reach_the_first_users_records(
    client, world, url_name, variant, method, django_capture_on_commit_callbacks
):
    entry = TABLE[url_name]
    url = reverse(url_name, kwargs=entry.variants[variant](world))
    case = f"{method} {url} ({url_name} [{variant}])"
    before = snapshot()
    # The work a request schedules (imports, rebuilds: eager Celery tasks) runs too.
    with django_capture_on_commit_callbacks(execute=True):
        response = _request(client, entry, world, url, method)
    expected = entry.status(variant, method)
    assert response.status_code == expected, f"{case} answered {response.status_code}, expected {expected}"
    if 300 <= response.status_code < 400:
        assert entry.redirect is not None, f"{case}: unexpected redirect to {response['Location']}"
        assert response["Location"].startswith(entry.redirect(world)), f"{case}: to {response['Location']}"
    leaked = [marker for marker in world.markers if marker in body_of(response)]
    assert not leaked, f"{case}: the response shows A's records: {leaked}"
    assert_nothing_of_a_changed(before, snapshot(), world, case)


JUNK_QUERY = {
    "q": "Zz\x00'\"<",
    "customer": "not-a-uuid",
    "cursor": "!!not-a-cursor",
    "page": "x",
    "status": "nonsense",
    "stage": "nonsense",
    "owner": "not-a-user",
    "tag": "not-a-tag",
    "currency": "XXX",
    "sort": "-nonsense",
}


@pytest.mark.parametrize(
    ("url_name", "variant"),
    [
        pytest.param(name, variant, id=f"{name} [{variant}]")
        for name, entry in TABLE.items()
        if not entry.api
        for variant in entry.variants
    ],
)
def test_malformed_query_string_is_never_a_500(client, world, url_name, variant):
    """The same GETs with every list filter malformed: a clear answer (never 500) and still no leak."""
    entry = TABLE[url_name]
    url = reverse(url_name, kwargs=entry.variants[variant](world))
    client.force_login(world.b)
    response = client.get(url, JUNK_QUERY)
    assert response.status_code < 500, f"GET {url}?<junk> ({url_name}) answered {response.status_code}"
    leaked = [marker for marker in world.markers if marker in body_of(response)]
    assert not leaked, f"GET {url}?<junk> ({url_name}): the response shows A's records: {leaked}"
