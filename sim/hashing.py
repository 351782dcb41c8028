"""Hashes of configs and code, and atomic file writes: the base the output modules share.

Kept apart from ``sim.io`` (run folders) and ``sim.tidy`` (study tables), which both use
them, so that neither imports the other back.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.params import config_dict


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary sibling of ``path``, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def source_digest() -> str:
    """A digest of the package's source files: results change when the code does."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _hash(data: Any, code: str | None = None) -> str:
    text = json.dumps({"data": data, "code": code or source_digest()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


#: Config keys that change whether a run may start, never its results: left out of hashes.
NOT_HASHED = ("allow_large_runs",)


def _hashed_config(result_or_config: Any) -> dict[str, Any]:
    data = config_dict(getattr(result_or_config, "config", result_or_config))
    for key in NOT_HASHED:
        data.pop(key, None)
    return data


def recorded_config_hash(config_data: dict[str, Any], code: str | None = None) -> str:
    """``config_hash`` of a run from its ``config.json`` as read, without building the config.

    ``code`` is the source digest the run recorded (``run.json``'s ``source_digest``); by
    default, the current one.
    """
    return _hash({k: v for k, v in config_data.items() if k not in NOT_HASHED}, code)


def config_hash(result_or_config: Any, code: str | None = None) -> str:
    """A hash of a run's full config and the package's source (what resuming checks).

    ``code`` is the source digest to hash with (``source_digest()``, computed if None): a
    study computes it once, not once per run.
    """
    return _hash(_hashed_config(result_or_config), code)


def settings_hash(result_or_config: Any, code: str | None = None) -> str:
    """A hash of everything but the scenario and the seed: runs to compare must share it."""
    data = _hashed_config(result_or_config)
    data.pop("scenario")
    data.pop("seed")
    return _hash(data, code)
