"""A run's outputs on disk: written atomically, marked complete, read back for aggregation.

Files of one run directory: ``summary.json``, ``timeseries.csv``, ``config.json``, optionally
``journeys.parquet``, and ``run.json`` last: the completion marker, holding the config hash,
the seed and the versions of the package and its dependencies. Every file is written to a
temporary name and renamed into place, so a killed run never leaves a half-written file under
a real name; a directory without ``run.json`` is incomplete and aggregation skips it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.kpis import check_summary
from sim.params import config_dict

if TYPE_CHECKING:
    from sim.runner import RunResult

SUMMARY = "summary.json"
TIMESERIES = "timeseries.csv"
JOURNEYS = "journeys.parquet"
CONFIG = "config.json"
RECORD = "run.json"  # written last: its presence means the run is complete
FAILURE = "failed.txt"  # a sweep job that raised: one line saying why (the sweep reports it)
DEPENDENCIES = (
    "funnel-alignment-sim",
    "mesa",
    "numpy",
    "pandas",
    "hydra-core",
    "omegaconf",
    "pyarrow",
    "scipy",
)


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


def run_hashes(result_or_config: Any, code: str | None = None) -> dict[str, str]:
    """A run's ``settings_hash`` and ``config_hash`` (its row of a study records both)."""
    return {
        "settings_hash": settings_hash(result_or_config, code),
        "config_hash": config_hash(result_or_config, code),
    }


def write_parquet(table: Any, path: Path) -> Path:
    """Write an arrow ``table`` to ``path`` atomically (a temporary name, then a rename)."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda p: pq.write_table(table, p))


def write_runs(runs: pd.DataFrame, out: Path) -> list[Path]:
    """Write a study's tidy table as ``runs.parquet`` and ``runs.csv`` (each atomically)."""
    import pyarrow as pa

    from sim.tidy import RUNS_CSV, RUNS_PARQUET

    out.mkdir(parents=True, exist_ok=True)
    return [
        write_parquet(pa.Table.from_pandas(runs, preserve_index=False), out / RUNS_PARQUET),
        atomic_write(out / RUNS_CSV, lambda p: runs.to_csv(p, index=False)),
    ]


def versions() -> dict[str, str]:
    """Python and the versions of the package and the dependencies that shape its results."""
    found = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _json_safe(key: str, value: Any) -> Any:
    """NaN becomes null: JSON has no NaN, and a rate with no events has no value.

    An infinite value is an overflow, not a missing value: it is refused, never written as
    null (``sim.runner.check_finite`` refuses it first, with the run's message).
    """
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        raise ValueError(f"{key} = {value}: an infinite result cannot be written (an overflow)")
    return value


def to_json(data: dict[str, Any]) -> str:
    """Deterministic JSON (sorted keys, fixed float repr) so that equal runs give equal bytes."""
    return (
        json.dumps(
            {k: _json_safe(k, v) for k, v in data.items()},
            indent=2,
            sort_keys=True,
            allow_nan=False,
        )
        + "\n"
    )


def write_outputs(result: RunResult, out_dir: str | Path) -> list[Path]:
    """Write a run's outputs into ``out_dir``, each atomically, the completion record last."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Overwriting a finished run: it is no longer finished until the new record is written.
    (out / RECORD).unlink(missing_ok=True)
    written = [
        atomic_write(out / SUMMARY, lambda p: p.write_text(to_json(result.summary))),
        atomic_write(
            out / TIMESERIES,
            lambda p: result.timeseries.to_csv(p, index=False, float_format="%.6g"),
        ),
        atomic_write(
            out / CONFIG,
            # In the config's own order, not sorted: the order of the tactics is the order
            # of their hooks, which changes results (sim.reproduce rebuilds it from here).
            lambda p: p.write_text(json.dumps(config_dict(result.config), indent=2) + "\n"),
        ),
    ]
    if result.journeys is not None:
        written.append(
            atomic_write(out / JOURNEYS, lambda p: result.journeys.to_parquet(p, index=False))
        )
    elif result.journeys_file is not None:  # streamed during the run: move it into place
        os.replace(result.journeys_file, out / JOURNEYS)
        written.append(out / JOURNEYS)
    record = {
        "config_hash": config_hash(result),
        "settings_hash": settings_hash(result),
        "source_digest": source_digest(),  # the code part of the hashes (sim.reproduce)
        "seed": result.config.seed,
        "scenario": result.config.scenario.name,
        "org": result.config.org.name,
        "files": sorted(p.name for p in written),
        "versions": versions(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "reproduce": f"python -m sim.reproduce {out}",
    }
    written.append(
        atomic_write(
            out / RECORD,
            lambda p: p.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n"),
        )
    )
    return written


def is_complete(run_dir: str | Path, expected_hash: str | None = None) -> bool:
    """Whether ``run_dir`` holds a finished run (and, if given, of exactly this config)."""
    path = Path(run_dir) / RECORD
    if not path.exists():
        return False
    if expected_hash is None:
        return True
    try:
        return json.loads(path.read_text()).get("config_hash") == expected_hash
    except (OSError, ValueError):
        return False


def find_runs(root: str | Path) -> list[Path]:
    """Every complete run directory under ``root`` (one with a run.json), sorted."""
    return sorted(p.parent for p in Path(root).rglob(RECORD))


def incomplete_runs(root: str | Path) -> list[Path]:
    """Run directories under ``root`` that started but never finished (no run.json)."""
    started = {p.parent for p in Path(root).rglob(".hydra")} | {
        p.parent for p in Path(root).rglob(SUMMARY)
    }
    return sorted(d for d in started if not (d / RECORD).exists())


def read_json(path: Path) -> dict[str, Any]:
    """A run file's JSON object, or ValueError naming the file and what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path.name} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def _check_timeseries(path: Path, days: int) -> None:
    """Raise ValueError unless ``path`` holds a header and one complete row per day."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        raise ValueError(f"{TIMESERIES} is missing") from None
    if len(lines) != days + 1:
        raise ValueError(f"{TIMESERIES} has {len(lines) - 1} rows for {days} days (truncated?)")
    width = lines[0].count(b",")
    if lines[-1].count(b",") != width or not lines[-1].strip():
        raise ValueError(f"{TIMESERIES} ends in an incomplete row (truncated?)")


def read_run(run_dir: Path) -> dict[str, Any]:
    """One run's row of the tidy table (``sim.tidy``), from its folder's files.

    Its id is the folder's name; its inputs come from ``config.json`` (rebuilt, so the
    tactics' defaults fill in), its hashes from ``run.json``. A config the current code
    cannot rebuild (made by an older version) still gives its organisation, funnel and
    tactics.

    Raises:
        ValueError: naming the file and what is wrong with it.
    """
    from sim.inputs import tactics_label
    from sim.params import ConfigError, build_config
    from sim.tidy import run_row

    summary = read_json(run_dir / SUMMARY)
    problem = check_summary(summary)
    if problem:
        raise ValueError(f"{SUMMARY}: {problem}")
    record = read_json(run_dir / RECORD)
    config = read_json(run_dir / CONFIG)
    _check_timeseries(run_dir / TIMESERIES, summary["days"])
    summary = {k: (math.nan if v is None else v) for k, v in summary.items()}
    try:
        row = run_row(build_config(config), summary, run_dir.name, 0)
    except ConfigError:
        row = {"run_id": run_dir.name, "draw": 0, **summary}
        for key, value in (config.get("org") or {}).items():
            if key != "name":
                row[f"org.{key}"] = value
        scenario = config.get("scenario") or {}
        row["funnel"] = scenario.get("funnel")
        row["tactics"] = tactics_label(scenario.get("tactics") or {})
    for key in ("settings_hash", "config_hash"):  # as recorded, whatever the code is now
        row[key] = record.get(key)
    return row


def load_runs(root: str | Path, skipped: list[tuple[Path, str]] | None = None) -> pd.DataFrame:
    """The tidy table (``sim.tidy``) of the run folders under ``root``, one row per run.

    Works on any directory of runs made by ``python -m sim`` (single runs or sweeps, with
    any launcher), or by a study with ``keep_runs=true``: the rows come from each run's own
    files, not from the folder names; ``run_dir`` says where each is. A run whose files are
    damaged (broken JSON, a KPI missing or out of its range, a truncated time series) is
    left out and appended to ``skipped`` as (directory, reason); without ``skipped``, the
    first such run raises ValueError naming it.
    """
    from sim.tidy import normalise

    root = Path(root)
    rows = []
    for run_dir in find_runs(root):
        try:
            row = read_run(run_dir)
        except ValueError as exc:
            if skipped is None:
                raise ValueError(f"{run_dir}: {exc}") from None
            skipped.append((run_dir, str(exc)))
            continue
        row["run_dir"] = str(run_dir.relative_to(root)) if run_dir != root else "."
        rows.append(row)
    if not rows:
        raise FileNotFoundError(f"no complete, readable runs (with {RECORD}) under {root}")
    return normalise(rows)


def load_timeseries(root: str | Path, runs: pd.DataFrame) -> pd.DataFrame:
    """The daily series of every run in ``runs`` (long format, with scenario and seed)."""
    frames = []
    for row in runs.itertuples():
        ts = pd.read_csv(Path(root) / row.run_dir / TIMESERIES)
        ts.insert(0, "seed", row.seed)
        ts.insert(0, "draw", row.draw)
        ts.insert(0, "run_id", row.run_id)
        ts.insert(0, "scenario", row.scenario)
        frames.append(ts)
    return pd.concat(frames, ignore_index=True)
