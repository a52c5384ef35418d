"""Turn ``DATABASE_URL`` into a Django ``DATABASES`` entry for SQLite, PostgreSQL or MongoDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ

# django-mongodb-backend with decimals kept at their scale (see crm_site/mongodb_backend/base.py).
MONGODB_ENGINE = "crm_site.mongodb_backend"


def backend_of(url: str) -> str:
    """Name the backend a database URL selects: ``sqlite``, ``postgresql`` or ``mongodb``."""
    scheme = urlsplit(url).scheme.lower()
    if scheme.startswith("mongodb"):
        return "mongodb"
    if scheme in {"postgres", "postgresql", "pgsql", "psql"}:
        return "postgresql"
    if scheme in {"sqlite", "sqlite3"}:
        return "sqlite"
    raise ValueError(
        f"DATABASE_URL: unsupported scheme {scheme!r} (use sqlite://, postgres:// or mongodb://)"
    )


def mongodb_config(url: str) -> dict[str, Any]:
    """MongoDB: the whole URI goes to HOST; the path names the database (default ``crm``)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "crm"
    host = urlunsplit((parts.scheme, parts.netloc, "/", parts.query, ""))
    return {"ENGINE": MONGODB_ENGINE, "HOST": host, "NAME": name, "OPTIONS": {}}


def database_config(url: str | None, base_dir: Path) -> dict[str, Any]:
    """The ``default`` database for ``url``; unset means an SQLite file in the project folder."""
    if not url:
        url = f"sqlite:///{base_dir / 'db.sqlite3'}"
    backend = backend_of(url)
    if backend == "mongodb":
        return mongodb_config(url)
    config: dict[str, Any] = environ.Env.db_url_config(url)
    if backend == "postgresql":
        config["ENGINE"] = "django.db.backends.postgresql"
        config.setdefault("CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
    else:
        # WAL lets the dev server read while an in-process task writes.
        config.setdefault("OPTIONS", {})["init_command"] = (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        )
        config["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    return config
