"""Check that a change to the model's code leaves every run's results bit for bit the same.

Usage::

    python -m experiments.same_results save DIR    # before the change: store the results
    python -m experiments.same_results check DIR   # after it: compare, exit 1 on a difference

A performance change must not change a single result: the same random draws in the same
order, the same decisions, the same numbers. The stored results are, for every scenario in
``conf/scenario`` on the small, default and misaligned organisations (the last switches on
the causes of misalignment, with their own code paths) and seeds 1-3 over ``DAYS`` days:
the summary KPIs, the daily time series and the journey log (every lead's row). ``check``
compares them exactly (floats by their bits, NaN equal to NaN) and names the first run and
column that differ. About a minute on one core.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pandas as pd

from experiments.compare_tactics import all_scenarios
from sim.config import choice_override, load_config
from sim.runner import run

ORGS = ("small", "default", "misaligned")
SEEDS = (1, 2, 3)
DAYS, WARMUP = 300, 20


def runs():
    """Each run's name and config: every scenario x organisation x seed."""
    for org in ORGS:
        for scenario in all_scenarios():
            cfg = load_config(
                [
                    choice_override("scenario", [scenario]),
                    f"org={org}",
                    f"days={DAYS}",
                    f"warmup_days={WARMUP}",
                    "record_journeys=true",
                ]
            )
            for seed in SEEDS:
                yield f"{org}-{scenario}-seed{seed}", dataclasses.replace(cfg, seed=seed)


def outputs(cfg) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """One run's summary (without its version string), time series and journeys."""
    result = run(cfg)
    summary = {k: v for k, v in result.summary.items() if k != "version"}
    return summary, result.timeseries, result.journeys


def save(where: Path) -> None:
    """Store every run's outputs under ``where`` (which must not exist yet)."""
    where.mkdir(parents=True)
    for name, cfg in runs():
        summary, series, journeys = outputs(cfg)
        (where / f"{name}.json").write_text(json.dumps(summary, sort_keys=True))
        series.to_parquet(where / f"{name}.series.parquet")
        journeys.to_parquet(where / f"{name}.journeys.parquet")
        print(name, file=sys.stderr)


def same(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    """None if the frames are equal exactly (NaN equal to NaN), else the first difference."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return f"shape or columns differ: {a.shape} {b.shape}"
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype != y.dtype:
            return f"{column}: dtype {x.dtype} vs {y.dtype}"
        equal = (x == y) | (x.isna() & y.isna())
        if not equal.all():
            row = int((~equal).to_numpy().argmax())
            return f"{column}, row {row}: {x.iloc[row]!r} vs {y.iloc[row]!r}"
    return None


def check(where: Path) -> int:
    """Compare every run with what ``save`` stored; 0 if all are identical."""
    bad = 0
    n = 0
    for name, cfg in runs():
        summary, series, journeys = outputs(cfg)
        n += 1
        stored = json.loads((where / f"{name}.json").read_text())
        now = json.loads(json.dumps(summary, sort_keys=True))  # the same round trip
        problems = [k for k in stored if json.dumps(stored[k]) != json.dumps(now.get(k))]
        if set(now) != set(stored):
            problems.append(f"keys {sorted(set(now) ^ set(stored))}")
        for part, frame in (("series", series), ("journeys", journeys)):
            diff = same(pd.read_parquet(where / f"{name}.{part}.parquet"), frame)
            if diff:
                problems.append(f"{part}: {diff}")
        if problems:
            bad += 1
            print(f"DIFFERENT {name}: {problems[:3]}", file=sys.stderr)
    print(f"{n - bad} of {n} runs identical", file=sys.stderr)
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    """``save DIR`` or ``check DIR``."""
    if len(argv) != 2 or argv[0] not in ("save", "check"):
        print("usage: python -m experiments.same_results save|check DIR", file=sys.stderr)
        return 2
    where = Path(argv[1])
    if argv[0] == "save":
        if where.exists():
            print(f"{where}: exists already; give a new folder", file=sys.stderr)
            return 2
        save(where)
        return 0
    if not where.is_dir():
        print(f"{where}: no stored results there (run save first)", file=sys.stderr)
        return 2
    return check(where)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
