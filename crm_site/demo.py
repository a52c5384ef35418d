"""Demo data: a shared context and the registry of per-app seeders.

Each project app may ship ``<app>/demo.py`` with ``seed(ctx: SeedContext) -> None``; ``seed_demo`` calls
them in ``settings.PROJECT_APPS`` order (customers first), so later apps can use what earlier ones made
through ``ctx.shared``. Seeders write with ``bulk_create`` in batches of ``ctx.batch_size`` and derive all
randomness from ``ctx.rng`` (or ``ctx.numpy_rng``) so the same seed gives the same data.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any

import numpy as np
from django.conf import settings


@dataclass
class SeedContext:
    """What every seeder gets: sizes, randomness, staff users, and a dict to pass ids along."""

    customers: int
    seed: int
    users: dict[str, Any]
    batch_size: int = 5000
    log: Callable[[str], None] = print
    shared: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.numpy_rng = np.random.default_rng(self.seed)

    def sales_users(self) -> list[Any]:
        return [user for name, user in sorted(self.users.items()) if name.startswith("sales")]


def seeders() -> list[tuple[str, Callable[[SeedContext], None]]]:
    """Every app's ``seed`` function, in dependency order.

    A demo module whose data follows another app's (sessions_log's complaints follow the orders) names
    that app in ``SEED_AFTER`` and runs right after that app's seeder instead of in PROJECT_APPS order.
    """
    modules = [
        (label, importlib.import_module(f"{label}.demo"))
        for label in settings.PROJECT_APPS
        if find_spec(f"{label}.demo") is not None
    ]
    labels = [label for label, _module in modules]
    later: dict[str, list[tuple[str, Callable[[SeedContext], None]]]] = {}
    found: list[tuple[str, Callable[[SeedContext], None]]] = []
    for position, (label, module) in enumerate(modules):
        after = getattr(module, "SEED_AFTER", None)
        if after in labels[position + 1 :]:
            later.setdefault(after, []).append((label, module.seed))
            continue
        found.append((label, module.seed))
        found += later.pop(label, [])
    return found


PRODUCTION_OVERRIDE_FLAG = "--i-know-this-is-not-production"


def add_production_guard(parser: Any) -> None:
    """The flag a demo command needs before it writes demo logins or data under production settings."""
    parser.add_argument(
        PRODUCTION_OVERRIDE_FLAG,
        dest="not_production",
        action="store_true",
        help="Run even though the settings are production ones (demo logins have published passwords).",
    )


def refuse_in_production(options: dict[str, Any]) -> None:
    """Stop a demo command under production settings unless the operator said it is not production."""
    from django.core.management.base import CommandError

    if getattr(settings, "CRM_PRODUCTION", False) and not options.get("not_production"):
        raise CommandError(
            "These are production settings: demo logins have published passwords and demo data is fake. "
            f"Refusing to run; pass {PRODUCTION_OVERRIDE_FLAG} if this database is not a production one."
        )
