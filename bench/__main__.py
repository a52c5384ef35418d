"""Run every benchmark module's ``run(args)``, or only the one named by ``--only``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", help="run only this benchmark module (e.g. customers)")
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to seed")
    parser.add_argument("--database-url", default=None, help="defaults to each module's own database")
    parser.add_argument("--skip-seed", action="store_true", help="reuse data seeded by an earlier run")
    parser.add_argument("--repeat", type=int, default=30, help="requests per measured page")
    args = parser.parse_args()
    names = [
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not info.name.startswith("_")
    ]
    for name in sorted(names):
        if args.only and name != args.only:
            continue
        importlib.import_module(f"bench.{name}").run(args)


if __name__ == "__main__":
    main()
