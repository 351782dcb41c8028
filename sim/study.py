"""A study directory: its identity (``study.json``) and a lock held while it is written.

A sweep writes many runs into one directory, and a later command may point at the same
directory (to resume it, or by mistake). Without an identity, a second sweep with other
settings overwrites the first one's runs, or adds runs that aggregation then averages in.
So the first sweep records its settings once, in ``study.json``; a later command is refused
unless it asks to continue the study *and* has the same settings (the message names the first
setting that differs). While a sweep runs it holds an exclusive lock on ``.study.lock``
(``fcntl.flock``: released by the kernel when the process dies, so a killed sweep never leaves
a stale lock), and a second writer is refused at once.

Names that become part of a path (an organisation's or a scenario's name) are checked by
``safe_name``: letters (any script), digits, ``_``, ``-``, ``.`` and ``~``, not a leading dot, so no
config value can write outside the directory it is meant for.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sim.params import ConfigError

STUDY = "study.json"
LOCK = ".study.lock"
_SAFE = re.compile(r"[\w~-][\w.~-]*")  # \w: letters of any script, digits and _


class StudyBusyError(ConfigError):
    """Another process holds the study directory's lock."""


def safe_name(value: str, key: str) -> str:
    """Return ``value`` if it is safe inside a file name; refuse it naming ``key`` otherwise."""
    if not _SAFE.fullmatch(str(value)) or len(str(value)) > 100:
        raise ConfigError(
            f"{key} = {value!r}: becomes part of a directory name; use up to 100 letters, "
            "digits, '_', '-', '.' or '~', not starting with '.'"
        )
    return str(value)


def check_writable(path: str | Path) -> Path:
    """Refuse (one line) an output directory that cannot be created or written.

    Checked before any work starts: the nearest existing ancestor must be a directory this
    process can write to (a file in the way, a read-only file system, no permission).
    """
    path = Path(path)
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"{path}: {probe} is a file, not a directory; choose another directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{path}: {probe} is not writable (read-only or no permission); choose a directory "
            "you can write to"
        )
    return path


def run_configs(configs: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """A study's runs, as its identity: each distinct config in full, the seed aside.

    Keyed ``<scenario>/<org>#<n>`` in the order given. The contents of the org and scenario
    files count, not their names: the same command with another ``--config-dir`` file of the
    same name is another study.
    """
    from sim.params import config_dict

    runs: dict[str, dict[str, Any]] = {}
    for cfg in configs:
        data = config_dict(cfg)
        data.pop("seed")
        runs[f"{cfg.scenario.name}/{cfg.org.name}#{len(runs)}"] = data
    return runs


def first_difference(old: Any, new: Any, prefix: str = "") -> str | None:
    """The first key (dotted path) where two JSON-like values differ, with both values."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                return f"{path} is new (not in the study)"
            if key not in new:
                return f"{path} is missing (the study has {old[key]!r})"
            found = first_difference(old[key], new[key], path)
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list) and old != new:
        gone = [x for x in old if x not in new]
        added = [x for x in new if x not in old]
        if gone or added:
            return (
                f"{prefix or 'settings'}: the study has {', '.join(map(str, gone)) or 'nothing'}"
                f" where this command has {', '.join(map(str, added)) or 'nothing'}"
            )
    if old != new:
        return f"{prefix or 'settings'}: the study has {old!r}, this command {new!r}"
    return None


def _canonical(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` as it reads back from JSON (tuples become lists, keys strings)."""
    return json.loads(json.dumps(settings, sort_keys=True, default=str))


@contextlib.contextmanager
def open_study(
    path: str | Path, settings: dict[str, Any], *, resume: bool, resume_hint: str
) -> Iterator[Path]:
    """Create or reopen the study directory ``path`` and hold its lock until the block ends.

    Args:
        path: the study directory (created with its parents if missing).
        settings: what defines the study (JSON-ready); recorded on first use.
        resume: whether the command asked to continue an existing study.
        resume_hint: how to ask for that (``resume=DIR``), for the messages.

    Raises:
        ConfigError: the path is not a directory, holds another study or other files, or the
            command did not ask to continue the study in it.
        StudyBusyError: another process is writing to the study.
        OSError: the directory cannot be created or written (the caller reports it).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: exists and is not a directory; choose another directory")
    existed = path.is_dir() and any(path.iterdir())
    path.mkdir(parents=True, exist_ok=True)
    settings = _canonical(settings)
    with open(path / LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise StudyBusyError(
                f"{path}: another sweep ({holder}) is writing to this directory; wait for it "
                "to finish or choose another directory"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        try:
            _check_identity(path, settings, existed, resume, resume_hint)
            yield path
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock, fcntl.LOCK_UN)


def _check_identity(
    path: Path, settings: dict[str, Any], existed: bool, resume: bool, resume_hint: str
) -> None:
    record = path / STUDY
    if not record.exists():
        others = [p.name for p in path.iterdir() if p.name != LOCK]
        if existed and others:
            raise ConfigError(
                f"{path}: holds files but no {STUDY} (not a study made by this version, or "
                "another tool's directory); choose a new directory"
            )
        from sim.io import atomic_write  # io imports pandas: only when a study starts

        atomic_write(
            record,
            lambda p: p.write_text(json.dumps({"settings": settings}, indent=2) + "\n"),
        )
        return
    try:
        recorded = json.loads(record.read_text())["settings"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{record}: unreadable study record ({exc}); not resumable") from None
    difference = first_difference(recorded, settings)
    if difference:
        raise ConfigError(
            f"{path}: holds a study made with other settings ({difference}); use the same "
            "settings to continue it, or choose a new directory"
        )
    if not resume:
        raise ConfigError(
            f"{path}: already holds this study; continue it with {resume_hint}, or choose a "
            "new directory"
        )
