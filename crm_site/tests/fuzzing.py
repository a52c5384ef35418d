"""Shared pieces of the fuzz tests (issue 13): Hypothesis profiles, nasty input, row-count snapshots.

Profiles (``HYPOTHESIS_PROFILE``): ``ci`` (the default: few examples, derandomized so every CI run tries
the same inputs) and ``thorough`` (20 times as many, still derandomized), e.g.
``HYPOTHESIS_PROFILE=thorough .venv/bin/pytest -m fuzz -p no:cacheprovider``. Each test scales the
profile's ``max_examples`` with ``fuzz_settings(scale)``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings as django_settings
from django.http import QueryDict
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def fuzz_settings(scale: float = 1.0) -> settings:
    """The loaded profile with ``max_examples`` times ``scale`` (at least 1)."""
    return settings(settings.default, max_examples=max(1, int(settings.default.max_examples * scale)))


# What users, scripts and attackers type: control characters, lone surrogates (sent as the bytes a
# client would send), huge values, numbers and dates at and past every limit, right-to-left and CJK.
NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff x",
    "\ufeff",
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "王芳",
    "上海市浦东新区世纪大道100号",
    "客户" * 600,
    "x" * 5000,
    "0",
    "-1",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "1e-400",
    "9" * 40,
    "-" + "9" * 40,
    str(2**31),
    str(2**63),
    str(-(2**63) - 1),
    "0.000000000000000000001",
    "12345678901234.999",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "1899-12-31",
    "2101-01-01",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59",
    "2026-12-02T10:00:00+14:00",
    "2026-12-02 25:61",
    "00000000-0000-0000-0000-000000000000",
    "not-a-uuid",
    "yes",
    "no",
    "on",
    "true",
    "a@b",
    "someone@example.com",
    "+86 138 0013 8000",
    "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "'; DROP TABLE customers_customer; --",
    "../../etc/passwd",
    "%s%s%n",
    "{{ 7*7 }}",
]

nasty_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
)


def as_posted(data: dict[str, list[str]]) -> QueryDict:
    """``data`` as Django reads it from a form POST: percent-encoded UTF-8 bytes (lone surrogates as the
    bytes a client would send, which Django decodes to U+FFFD), then parsed into a QueryDict."""
    pairs = [
        (key, value.encode("utf-8", "surrogatepass")) for key, values in data.items() for value in values
    ]
    return QueryDict(urlencode(pairs))


def project_models() -> list[Any]:
    """Every concrete model of the project's apps (crm_site included)."""
    labels = {"crm_site", *django_settings.PROJECT_APPS}
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in labels and not model._meta.proxy and model._meta.managed
    ]


def row_counts() -> dict[str, int]:
    """{"app.Model": rows} for every project model (compare before and after a refused write)."""
    return {model._meta.label: model._default_manager.count() for model in project_models()}


def changed_counts(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {
        label: (before[label], after.get(label, 0))
        for label in before
        if before[label] != after.get(label, 0)
    }
