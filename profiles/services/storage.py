"""Files a run keeps between its steps: the fitted models and the per-chunk staged profile rows.

They live under MEDIA_ROOT so that every worker of one deployment (which shares MEDIA_ROOT) can read
what another wrote; a database BinaryField would be awkward on MongoDB and bloat backups.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings


def _root() -> Path:
    return Path(settings.MEDIA_ROOT)


def models_path(run_id: Any) -> Path:
    return _root() / "profile_models" / f"{run_id}.pkl"


def staging_dir(run_id: Any) -> Path:
    return _root() / "profile_runs" / str(run_id)


def chunk_path(run_id: Any, index: int) -> Path:
    return staging_dir(run_id) / f"chunk-{index:05d}.pkl"


def dump(path: Path, value: Any) -> None:
    """Write atomically (temp file + rename) so a killed worker never leaves a half file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def load(path: Path) -> Any:
    # Only files this app wrote itself under MEDIA_ROOT are ever unpickled.
    with open(path, "rb") as handle:
        return pickle.load(handle)  # noqa: S301


def remove_staging(run_id: Any) -> None:
    shutil.rmtree(staging_dir(run_id), ignore_errors=True)


def remove_models(run_id: Any) -> None:
    models_path(run_id).unlink(missing_ok=True)
