"""Writing a run's outputs: summary.json, timeseries.csv, journeys.parquet, config.json."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from sim.runner import RunResult, config_dict

SUMMARY = "summary.json"
TIMESERIES = "timeseries.csv"
JOURNEYS = "journeys.parquet"
CONFIG = "config.json"


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null: JSON has no NaN, and a rate with no events has no value."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(data: dict[str, Any]) -> str:
    """Deterministic JSON (sorted keys, fixed float repr) so that equal runs give equal bytes."""
    return (
        json.dumps(
            {k: _json_safe(v) for k, v in data.items()}, indent=2, sort_keys=True, allow_nan=False
        )
        + "\n"
    )


def write_outputs(result: RunResult, out_dir: str | Path) -> list[Path]:
    """Write a run's outputs into ``out_dir`` and return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    path = out / SUMMARY
    path.write_text(to_json(result.summary))
    written.append(path)
    path = out / TIMESERIES
    result.timeseries.to_csv(path, index=False, float_format="%.6g")
    written.append(path)
    path = out / CONFIG
    path.write_text(json.dumps(config_dict(result.config), indent=2, sort_keys=True) + "\n")
    written.append(path)
    if result.journeys is not None:
        path = out / JOURNEYS
        result.journeys.to_parquet(path, index=False)
        written.append(path)
    return written


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """Read a run's summary.json (nulls come back as NaN, for arithmetic)."""
    data = json.loads((Path(run_dir) / SUMMARY).read_text())
    return {k: (math.nan if v is None else v) for k, v in data.items()}


def find_runs(root: str | Path) -> list[Path]:
    """Every run directory under ``root`` (a directory holding a summary.json), sorted."""
    return sorted(p.parent for p in Path(root).rglob(SUMMARY))


def load_runs(root: str | Path) -> pd.DataFrame:
    """One row per run under ``root``: every KPI, the run's identity and its organisation.

    Works on any directory of runs made by ``python -m sim`` (single runs or sweeps, with
    any launcher): the rows come from each run's own files, not from the folder names.
    """
    rows = []
    for run_dir in find_runs(root):
        row = read_summary(run_dir)
        config_path = run_dir / CONFIG
        if config_path.exists():
            config = json.loads(config_path.read_text())
            for key, value in config.get("org", {}).items():
                if key != "name":
                    row[f"org.{key}"] = value
            row["funnel"] = config.get("scenario", {}).get("funnel")
            row["tactics"] = "+".join(sorted(config.get("scenario", {}).get("tactics", {})))
        row["run_dir"] = str(run_dir.relative_to(root)) if run_dir != Path(root) else "."
        rows.append(row)
    if not rows:
        raise FileNotFoundError(f"no runs (no {SUMMARY}) under {root}")
    return pd.DataFrame(rows)


def load_timeseries(root: str | Path, runs: pd.DataFrame) -> pd.DataFrame:
    """The daily series of every run in ``runs`` (long format, with scenario and seed)."""
    frames = []
    for row in runs.itertuples():
        ts = pd.read_csv(Path(root) / row.run_dir / TIMESERIES)
        ts.insert(0, "seed", row.seed)
        ts.insert(0, "scenario", row.scenario)
        frames.append(ts)
    return pd.concat(frames, ignore_index=True)
