"""Re-run a recorded run from its directory and check its KPIs match exactly.

Usage::

    python -m sim.reproduce outputs/2026-11-23/10-00-00-000000_baseline

Reads the run's ``config.json`` (its full validated config, seed included), checks it is the
config ``run.json`` recorded the hash of, runs it again and compares the new ``summary.json``
with the recorded one byte for byte. Exit status 0 when they are identical, 1 when they
differ (the differing KPIs are listed), 2 on bad input, including a ``config.json`` that does
not match ``run.json``'s ``config_hash``.

A run directory is code: its ``config.json`` can name classes to import (see the README's
Security section). Reproduce only runs you trust.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sim.io import CONFIG, RECORD, SUMMARY, read_json, recorded_config_hash, to_json, versions
from sim.params import ConfigError, build_config
from sim.runner import run


def _read_json(path: Path) -> dict:
    """A run file's JSON object (``sim.io.read_json``), or ConfigError naming the file."""
    try:
        return read_json(path)
    except ValueError as exc:
        raise ConfigError(f"{path.parent}: {exc}") from None


def reproduce(run_dir: str | Path) -> tuple[bool, list[str]]:
    """Re-run ``run_dir``; return (identical, the KPIs that differ)."""
    run_dir = Path(run_dir)
    if not (run_dir / RECORD).exists():
        raise ConfigError(f"{run_dir}: not a complete run directory (no {RECORD})")
    record, data = _read_json(run_dir / RECORD), _read_json(run_dir / CONFIG)
    # First, before the config is built (building imports its _target_ classes).
    code = record.get("source_digest")
    if recorded_config_hash(data, code) != record.get("config_hash"):
        older = "" if code else " (or the code changed: this run.json predates source_digest)"
        raise ConfigError(
            f"{run_dir}: {CONFIG} does not match the config_hash in {RECORD}{older}; "
            "a config and summary from another run cannot be reproduced as this one"
        )
    config = build_config(data)
    recorded_text = (run_dir / SUMMARY).read_text()
    new = run(config).summary
    if to_json(new) == recorded_text:
        return True, []
    recorded = json.loads(recorded_text)
    fresh = json.loads(to_json(new))
    differ = sorted(k for k in set(recorded) | set(fresh) if recorded.get(k) != fresh.get(k))
    return False, differ


def main(argv: list[str] | None = None) -> int:
    """Reproduce each run directory given."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0 if argv else 2
    status = 0
    for arg in argv:
        try:
            same, differ = reproduce(arg)
        except (ConfigError, OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if same:
            print(f"{arg}: reproduced exactly (summary.json identical)")
        else:
            status = 1
            recorded = _read_json(Path(arg) / RECORD).get("versions", {})
            now = versions()
            changed = {k: (recorded.get(k), v) for k, v in now.items() if recorded.get(k) != v}
            print(
                f"{arg}: DIFFERENT in {', '.join(differ)}"
                + (f"; versions changed since the run: {changed}" if changed else "")
            )
    return status


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
