"""Measured in a child process (Django configured from the environment): the calls and events APIs over HTTP.

``main(port, repeat)`` makes a bearer token for ``service`` (reads every customer, the usual owner of a
call-centre feed) and one for ``sales1`` (the visibility rule on half the customers), then POSTs
``repeat`` batches of 500 call records to ``/api/v1/calls/`` per token, one keep-alive connection, after
2 warm-up batches: 80% numbers of customers the token's user may see, written four ways (``+86 138-...``,
``0086...``, spaced, bare digits), 20% unknown numbers (parked unmatched), each with a fresh
``external_id``; then one batch sent again (all duplicates). Then batches of 1,000 behaviour events to
``/api/v1/events/`` and ``/api/events/`` in turn. Each kind of request is also sent 5 times through the
test client in this process, for the CPU time it costs a Django process (independent of how busy the
machine is; leaves out PostgreSQL's own work). Prints a Markdown table.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import sys
import time
from typing import Any

BATCH = 500
EVENT_BATCH = 1000
CPU_BATCHES = 5


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def _spellings(digits: str) -> list[str]:
    return [
        f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}",
        f"0086{digits}",
        f"{digits[:3]} {digits[3:7]} {digits[7:]}",
        digits,
    ]


def _numbers(user: Any, count: int) -> list[str]:
    """Normalised mobile numbers of customers ``user`` may see (through the selector the API uses)."""
    from customers.models import ContactMethod
    from customers.selectors import visible_customers

    visible = visible_customers(user=user).values("pk")
    # Encrypted at rest (issue 13): no SQL order on the value; the blind index orders as well as any.
    return [
        contact.value_normalized
        for contact in ContactMethod.objects.filter(kind="mobile", customer_id__in=visible).order_by(
            "value_hash"
        )[:count]
    ]


def _call_batches(numbers: list[str], batches: int, tag: str) -> list[bytes]:
    rng = random.Random(tag)
    bodies = []
    for batch in range(batches):
        records = []
        for i in range(BATCH):
            if i % 5 == 4:
                number = f"0{rng.randrange(10**9, 10**10)}"  # nobody's
            else:
                number = _spellings(rng.choice(numbers))[i % 4]
            records.append(
                {
                    "number": number,
                    "direction": ("inbound", "outbound")[i % 2],
                    "started_at": "2026-11-30T09:30:00+08:00",
                    "duration_seconds": 30 + i,
                    "outcome": ("reached", "no_answer")[i % 2],
                    "recording_url": f"https://pbx.example.com/rec/{tag}-{batch}-{i}.mp3",
                    "external_id": f"{tag}-{batch}-{i}",
                }
            )
        bodies.append(json.dumps(records).encode())
    return bodies


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, key: str) -> tuple[float, dict]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    started = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    took = time.perf_counter() - started
    if response.status not in (200, 201):
        raise RuntimeError(f"{path} answered {response.status}: {payload[:300]!r}")
    return took, json.loads(payload)


def _row(label: str, times: list[float], records: int, cpu: list[float], note: str = "") -> str:
    total = sum(times)
    per_request = records / len(times)
    cpu_ms = statistics.median(cpu) * 1000
    return (
        f"| {label} | {len(times)} | {records:,} | {records / total:,.0f} | "
        f"{statistics.median(times) * 1000:.0f} | {_p95(times) * 1000:.0f} | {cpu_ms:.0f} | "
        f"{per_request / (cpu_ms / 1000):,.0f} | {note} |"
    )


def _cpu(path: str, bodies: list[bytes], key: str) -> list[float]:
    """CPU seconds each body costs a Django process: the same request through the test client here."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    spent = []
    for body in bodies:
        started = time.process_time()
        response = client.post(path, body, content_type="application/json")
        spent.append(time.process_time() - started)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{path} answered {response.status_code} in process")
    return spent


def _in_parallel(port: int, path: str, bodies: list[bytes], key: str, clients: int) -> tuple[float, int]:
    """(wall seconds, records stored) for ``bodies`` sent by ``clients`` threads, a connection each."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    connections: dict[int, http.client.HTTPConnection] = {}

    def send(body: bytes) -> int:
        conn = connections.setdefault(
            threading.get_ident(), http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        )
        answer = _post(conn, path, body, key)[1]
        return answer["stored"] if "stored" in answer else answer["created"]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        stored = sum(pool.map(send, bodies))
    return time.perf_counter() - started, stored


def parallel(port: int, repeat: int, clients: int) -> None:
    """The server has ``clients`` workers: batches from as many client threads at once (records/s)."""
    from django.contrib.auth import get_user_model

    from crm_site.api import api_token_create
    from crm_site.models import ApiToken
    from customers.models import Customer

    stamp = f"par-{time.time_ns()}"
    user = get_user_model().objects.get(username="service")
    scopes = [ApiToken.Scope.CALLS_WRITE, ApiToken.Scope.EVENTS_WRITE]
    _token, key = api_token_create(name="bench-parallel", user=user, scopes=scopes)
    bodies = _call_batches(_numbers(user, 2000), repeat + clients, stamp)
    _in_parallel(port, "/api/v1/calls/", bodies[:clients], key, clients)  # warm every worker
    print(f"| {clients} client threads, {clients} gunicorn workers | batches | records | records/s |")
    print("|---|---:|---:|---:|")
    seconds, stored = _in_parallel(port, "/api/v1/calls/", bodies[clients:], key, clients)
    label = f"`POST /api/v1/calls/` as `service`, batches of {BATCH}"
    print(f"| {label} | {repeat} | {stored:,} | {stored / seconds:,.0f} |")
    ids = [str(pk) for pk in Customer.objects.order_by("pk").values_list("pk", flat=True)[:5000]]
    for number, path in enumerate(("/api/v1/events/", "/api/events/")):
        events = [
            json.dumps(
                [
                    {"customer_id": ids[(batch * EVENT_BATCH + i) % len(ids)], "event_type": "page_view",
                     "occurred_at": "2026-11-30T09:30:00+00:00",
                     "idempotency_key": f"{stamp}-{number}-{batch}-{i}"}
                    for i in range(EVENT_BATCH)
                ]
            ).encode()
            for batch in range(repeat // 2 + clients)
        ]  # fmt: skip
        _in_parallel(port, path, events[:clients], key, clients)
        seconds, stored = _in_parallel(port, path, events[clients:], key, clients)
        label = f"`POST {path}`, batches of {EVENT_BATCH} events"
        print(f"| {label} | {repeat // 2} | {stored:,} | {stored / seconds:,.0f} |")


def main() -> None:
    import os

    import django

    django.setup()
    clients = int(os.environ.get("BENCH_CALLS_CLIENTS", "1"))
    if clients > 1:
        parallel(int(sys.argv[1]), int(sys.argv[2]), clients)
        return
    from django.contrib.auth import get_user_model

    from crm_site.api import api_token_create
    from crm_site.models import ApiToken
    from customers.models import Customer
    from sessions_log.models import Interaction, UnmatchedItem

    port, repeat = int(sys.argv[1]), int(sys.argv[2])
    users = get_user_model().objects
    stamp = str(time.time_ns())
    scopes = [ApiToken.Scope.CALLS_WRITE, ApiToken.Scope.EVENTS_WRITE]
    print(
        "| what | requests | records | records/s | median ms a request | p95 ms | CPU ms a request "
        "| records per CPU second | note |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for username in ("service", "sales1"):
        user = users.get(username=username)
        _token, key = api_token_create(name=f"bench-{username}", user=user, scopes=scopes)
        numbers = _numbers(user, 2000)
        bodies = _call_batches(numbers, repeat + 2 + CPU_BATCHES, f"{username}-{stamp}")
        cpu = _cpu("/api/v1/calls/", bodies[repeat + 2 :], key)
        bodies = bodies[: repeat + 2]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for body in bodies[:2]:
            _post(conn, "/api/v1/calls/", body, key)
        before = Interaction.objects.count(), UnmatchedItem.objects.count()
        times, matched = [], 0
        for body in bodies[2:]:
            took, answer = _post(conn, "/api/v1/calls/", body, key)
            times.append(took)
            matched += answer["matched"]
        after = Interaction.objects.count(), UnmatchedItem.objects.count()
        stored = (after[0] - before[0]) + (after[1] - before[1])
        print(
            _row(
                f"`POST /api/v1/calls/` as `{username}`, batches of {BATCH}",
                times,
                stored,
                cpu,
                f"{matched:,} matched, {stored - matched:,} parked unmatched",
            )
        )
        again = [_post(conn, "/api/v1/calls/", bodies[2], key)[0] for _ in range(3)]
        again_cpu = _cpu("/api/v1/calls/", [bodies[2]] * 3, key)
        label = f"the same batch again as `{username}` (all duplicates)"
        print(_row(label, again, BATCH * len(again), again_cpu))
        conn.close()
    manager = users.get(username="service")
    _token, key = api_token_create(name="bench-events", user=manager, scopes=[ApiToken.Scope.EVENTS_WRITE])
    ids = [str(pk) for pk in Customer.objects.order_by("pk").values_list("pk", flat=True)[:5000]]
    moment = "2026-11-30T09:30:00+00:00"

    def events(batch: int) -> bytes:
        return json.dumps(
            [
                {
                    "customer_id": ids[(batch * EVENT_BATCH + i) % len(ids)],
                    "event_type": ("page_view", "search")[i % 2],
                    "occurred_at": moment,
                    "channel": "web",
                    "properties": {"query": "手机"} if i % 2 else {},
                    "idempotency_key": f"calls-bench-{stamp}-{batch}-{i}",
                }
                for i in range(EVENT_BATCH)
            ]
        ).encode()

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    paths = ("/api/v1/events/", "/api/events/")
    for path in paths:
        _post(conn, path, events(10_000 + len(path)), key)
    rounds = max(4, repeat // 2)
    timings: dict[str, list[float]] = {path: [] for path in paths}
    for batch in range(rounds * 2):
        path = paths[batch % 2]  # in turn, so both see the same machine
        took, answer = _post(conn, path, events(batch), key)
        if answer["stored"] != EVENT_BATCH:
            raise RuntimeError(f"{path} stored {answer['stored']} of {EVENT_BATCH}")
        timings[path].append(took)
    for number, path in enumerate(paths):
        cpu = _cpu(path, [events(20_000 + number * 100 + i) for i in range(CPU_BATCHES)], key)
        label = f"`POST {path}`, batches of {EVENT_BATCH} events"
        print(_row(label, timings[path], EVENT_BATCH * rounds, cpu))
    conn.close()
