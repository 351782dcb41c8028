"""Validate the default model against every published fact, with replicates.

Usage::

    python -m experiments.validate                         # 20 replicates, writes docs/validation/
    python -m experiments.validate replicates=40 out=validation_run org=small
    python -m experiments.validate behaviour=default       # the uncalibrated assumptions

Runs every scenario the facts compare (baseline, full_alignment, combined_funnel) for the same
replicate seeds, plus each extreme condition, then checks each fact as its ``kind`` says
(``sim.validation``). Writes ``validation.csv`` (fact, statement, source, target, range, model
mean, 95% interval, pass/fail) and ``validation.png``/``.svg`` (each target range against the
model's interval), and prints the table. Seeds start at 1,000 by default, apart from the seeds
calibration fits on, so validation is not judged on the runs that were tuned.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.common import Bar, fail, parse, replicate, scenario_configs
from sim.io import atomic_write
from sim.params import ConfigError, build_config
from sim.plotting import validation_chart
from sim.runner import run_many
from sim.validation import EXTREMES, evaluate, load_facts, scenarios_needed

OPTIONS = {"replicates": 20, "seed_base": 1000, "out": "docs/validation", "n_jobs": -1}
EXTREME_REPLICATES = 3


def run_validation(
    overrides: list[str], replicates: int, seed_base: int, n_jobs: int = -1, progress=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run what the facts need and return (fact table, runs)."""
    facts = load_facts()
    scenarios = scenarios_needed(facts)
    bases = scenario_configs(scenarios, overrides)
    seeds = list(range(seed_base, seed_base + replicates))
    configs, labels = [], []
    for name, base in bases.items():
        configs += replicate(base, seeds)
        labels += [name] * len(seeds)
    extreme_ids = [f.id for f in facts if f.kind == "extreme" and f.id in EXTREMES]
    for fid in extreme_ids:
        cond = EXTREMES[fid]
        base = build_config(bases["baseline"], **cond.overrides)
        configs += replicate(base, seeds[:EXTREME_REPLICATES])
        labels += [f"extreme:{fid}"] * EXTREME_REPLICATES
    runs = run_many(configs, n_jobs=n_jobs, progress=progress)
    runs["group"] = labels
    main = runs.loc[~runs.group.str.startswith("extreme:")]
    extremes = {fid: runs.loc[runs.group == f"extreme:{fid}"] for fid in extreme_ids}
    return evaluate(main, extremes, facts), runs


def format_validation(table: pd.DataFrame) -> str:
    """The fact table for the terminal."""

    def num(v: object) -> str:
        if isinstance(v, float):
            return "n/a" if not np.isfinite(v) else f"{v:.3g}"
        return str(v)

    shown = pd.DataFrame(
        {
            "fact": table.id,
            "kind": table.kind,
            "target": [
                num(t) if k not in ("ordering", "extreme") else ""
                for t, k in zip(table.target, table.kind, strict=True)
            ],
            "range": [
                f"[{lo:.3g}, {hi:.3g}]" if np.isfinite(lo) else ""
                for lo, hi in zip(table.range_low, table.range_high, strict=True)
            ],
            "model": [num(v) for v in table.model_mean],
            "95% interval": [
                f"[{num(lo)}, {num(hi)}]"
                for lo, hi in zip(table.ci_low, table.ci_high, strict=True)
            ],
            "n": table.n,
            "result": np.where(table.passed, "pass", "FAIL"),
        }
    )
    return shown.to_string(index=False)


def main(argv: list[str] | None = None) -> int:
    """Run the validation and write its table and figure."""
    parsed = parse(argv, __doc__, OPTIONS)
    if isinstance(parsed, int):
        return parsed
    opts, overrides = parsed
    try:
        if opts["replicates"] < 2:
            raise ConfigError(f"replicates={opts['replicates']}: must be a whole number >= 2")
        table, runs = run_validation(
            overrides,
            opts["replicates"],
            opts["seed_base"],
            opts["n_jobs"],
            progress=Bar("validation"),
        )
    except ConfigError as exc:
        return fail(exc)
    out = Path(opts["out"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "validation.csv", lambda p: table.to_csv(p, index=False))
    validation_chart(table, out / "validation")
    print(format_validation(table))
    passed = int(table.passed.sum())
    first = runs.iloc[0]
    print(
        f"\n{passed} of {len(table)} facts pass (org {first['org']}, {opts['replicates']} "
        f"replicates, {int(first.days)} days, warm-up {int(first.warmup_days)})."
    )
    print(f"written: {out / 'validation.csv'}, {out / 'validation.png'}")
    return 0


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
