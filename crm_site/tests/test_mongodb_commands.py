"""On MongoDB every page's commands stay on indexes, and their number does not grow with the data.

For a sales user and a manager, every page of ``PAGES`` (``test_query_counts.py``) is opened with
pymongo's command monitoring on, and every ``$lookup`` an aggregate sends (at any depth) is checked:

- a join is an equality of ``localField`` and ``foreignField`` on a field the joined collection has a
  plain index on. django-mongodb-backend makes unique indexes partial, and MongoDB's planner does not
  use a partial index for such a join: a ``select_related`` into customers by ``id`` scanned every
  customer for every row (``crm_site.mongodb_backend.schema`` gives primary keys a plain index).
- no sub-pipeline join without ``localField``: that is how the backend writes an ``IN (SELECT ...)``
  subquery, run again for every document (the visibility rule as such a subquery took a sales user's
  order list 85 s at 300 customers; see ``customers.selectors.visible_customer_filter``).

The sales user's pages are opened again after the site grows: each page must send as many commands
at both sizes (no command per row). Exact counts are ``test_query_counts.py``'s baselines.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from pymongo import monitoring

from crm_site.db import is_mongodb
from crm_site.tests.test_query_counts import MANAGER, PAGES, SALES, build_site

pytestmark = pytest.mark.django_db


class _Recorder(monitoring.CommandListener):
    """The commands this thread sends while recording (registered once, for every client made after)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def record(self) -> list[dict[str, Any]]:
        self.local.commands = []
        return self.local.commands

    def stop(self) -> None:
        self.local.commands = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        commands = getattr(self.local, "commands", None)
        if commands is not None and event.command_name not in {"endSessions", "commitTransaction"}:
            commands.append({"name": event.command_name, "command": dict(event.command)})

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_RECORDER = _Recorder()
monitoring.register(_RECORDER)


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    if not is_mongodb():
        pytest.skip("the commands MongoDB receives: MongoDB only")
    # pymongo gives a client the listeners registered before it was made: reconnect once.
    connection.close_pool()
    yield _RECORDER
    _RECORDER.stop()


def _lookups(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$lookup" and isinstance(item, dict):
                yield item
            yield from _lookups(item)
    elif isinstance(value, list):
        for item in value:
            yield from _lookups(item)


def _plainly_indexed(collection: str, field: str, cache: dict[str, set[str]]) -> bool:
    if field == "_id":
        return True
    if collection not in cache:
        indexes = connection.database[collection].index_information()
        cache[collection] = {
            spec["key"][0][0] for spec in indexes.values() if "partialFilterExpression" not in spec
        }
    return field in cache[collection]


def _join_problems(commands: list[dict[str, Any]], cache: dict[str, set[str]]) -> list[str]:
    problems = []
    for entry in commands:
        if entry["name"] != "aggregate":
            continue
        collection = entry["command"]["aggregate"]
        for lookup in _lookups(entry["command"].get("pipeline", [])):
            joined = lookup.get("from", "?")
            foreign = lookup.get("foreignField")
            if foreign is None:
                text = json.dumps(lookup, default=str)[:300]
                problems.append(f"{collection} -> {joined}: a sub-pipeline join (a subquery per row): {text}")
            elif not _plainly_indexed(joined, foreign, cache):
                problems.append(f"{collection} -> {joined}.{foreign}: no plain index on the joined field")
    return problems


def _open_every_page(client: Any, site: Any, role: str, recorder: _Recorder) -> dict[str, list[dict]]:
    sent: dict[str, list[dict]] = {}
    for name, page in PAGES.items():
        if role not in page.roles():
            continue
        url = reverse(name, kwargs=page.kwargs(site))
        client.get(url, page.query, follow=page.follow)  # warm (per-process caches, the session)
        commands = recorder.record()
        response = client.get(url, page.query, follow=page.follow)
        recorder.stop()
        assert response.status_code < 500, f"{name}: {response.status_code}"
        sent[page.key(name, role)] = commands
    return sent


def test_pages_join_only_on_plain_indexes_and_send_a_fixed_number_of_commands(
    client, sales_user, manager_user, recorder
):
    site = build_site(sales=sales_user, manager=manager_user)
    cache: dict[str, set[str]] = {}
    problems: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, int] = {}
    for role, user in ((SALES, sales_user), (MANAGER, manager_user)):
        client.force_login(user)
        for key, commands in _open_every_page(client, site, role, recorder).items():
            problems[key].extend(_join_problems(commands, cache))
            if role == SALES:
                counts[key] = len(commands)
    site.grow(3)
    client.force_login(sales_user)
    grown = {key: len(commands) for key, commands in _open_every_page(client, site, SALES, recorder).items()}
    for key, before in counts.items():
        if grown[key] != before:
            problems[key].append(f"{before} commands, {grown[key]} once the site grew by 3 of everything")
    report = "\n".join(f"{key}:\n  " + "\n  ".join(found) for key, found in problems.items() if found)
    assert not report, f"Pages whose MongoDB commands join without an index or grow with the data:\n{report}"
