"""Writing a run's outputs: summary.json, timeseries.csv, journeys.parquet, config.json."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

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
