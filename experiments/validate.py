"""Validate the default model against every published fact, with replicates.

Usage::

    python -m experiments.validate                         # 20 replicates, writes docs/validation/
    python -m experiments.validate replicates=40 out=validation_run org=small
    python -m experiments.validate behaviour=default       # the uncalibrated assumptions

Runs every scenario the facts compare (baseline, full_alignment, combined_funnel) for the same
replicate seeds, plus each extreme condition, then checks each fact as its ``kind`` says
(``sim.validation``). The ``fit`` column says which facts calibration fitted (the baseline's
levels and ratios) and which are held out: what alignment does must come from the tactics'
mechanisms unaided, so a held-out fact is *reached* or *missed*, never tuned.

It also measures how many more deals one more free rep hour a day brings: the baseline again
with every rep working an hour more (``rep_hours_per_day + 1``), paired by seed
(``marginal_hour.csv``). Reps leave marketing's leads unworked both for lack of hours and by
choice; the answer says how much of the black hole hours alone would close.

Writes ``validation.csv`` (fact, statement, source, target, range, model mean, 95% interval,
pass/fail) and ``validation.png``/``.svg`` (each target range against the
model's interval), and prints the table. Seeds start at 1,000 by default, apart from the seeds
calibration fits on, so validation is not judged on the runs that were tuned.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.common import fail, parse, replicate, run_summaries, scenario_configs
from sim.effects import t_interval
from sim.io import atomic_write
from sim.params import ConfigError, build_config
from sim.plotting import validation_chart
from sim.validation import EXTREMES, evaluate, fitted_facts, load_facts, scenarios_needed

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
        extreme = replicate(base, seeds[:EXTREME_REPLICATES])  # fewer if replicates is
        configs += extreme
        labels += [f"extreme:{fid}"] * len(extreme)
    hour = build_config(
        bases["baseline"], rep_hours_per_day=bases["baseline"].org.rep_hours_per_day + 1
    )
    configs += replicate(hour, seeds)
    labels += ["marginal_hour"] * len(seeds)
    runs = run_summaries(configs, n_jobs=n_jobs, progress=bool(progress))
    runs["group"] = labels
    main = runs.loc[~runs.group.str.startswith("extreme:") & (runs.group != "marginal_hour")]
    extremes = {fid: runs.loc[runs.group == f"extreme:{fid}"] for fid in extreme_ids}
    table = evaluate(main, extremes, facts)
    fitted = {f.id for f in fitted_facts(facts)}
    table.insert(2, "fit", ["fitted" if i in fitted else "held out" for i in table.id])
    return table, runs


def marginal_hour(runs: pd.DataFrame) -> pd.DataFrame:
    """Deals and revenue one more hour a day for every rep brings, paired by seed."""
    base = runs.loc[runs.group == "baseline"].set_index("seed")
    more = runs.loc[runs.group == "marginal_hour"].set_index("seed")
    rows = []
    for kpi in ("deals_won", "mql_follow_ups", "revenue_per_year", "mql_never_worked_share"):
        diff = (more[kpi] - base.loc[more.index, kpi]).to_numpy(float)
        mean, lo, hi = t_interval(diff)
        rows.append({"kpi": kpi, "baseline": base[kpi].mean(), "one_more_hour": more[kpi].mean(),
                     "difference": mean, "ci_low": lo, "ci_high": hi, "n": len(diff)})  # fmt: skip
    return pd.DataFrame(rows)


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
            "fit": table.fit,
            "result": [
                ("pass" if ok else "FAIL")
                if fit == "fitted" or kind == "extreme"
                else ("reached" if ok else "missed")
                for ok, fit, kind in zip(table.passed, table.fit, table.kind, strict=True)
            ],
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
            progress=True,
        )
    except ConfigError as exc:
        return fail(exc)
    out = Path(opts["out"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "validation.csv", lambda p: table.to_csv(p, index=False))
    hour = marginal_hour(runs)
    atomic_write(out / "marginal_hour.csv", lambda p: hour.to_csv(p, index=False))
    validation_chart(table, out / "validation")
    print(format_validation(table))
    passed = int(table.passed.sum())
    first = runs.iloc[0]
    print(
        f"\n{passed} of {len(table)} facts pass (org {first['org']}, {opts['replicates']} "
        f"replicates, {int(first.days)} days, warm-up {int(first.warmup_days)})."
    )
    won = hour.set_index("kpi").loc["deals_won"]
    print(
        f"one more rep hour a day (every rep): {won.difference:+.1f} deals won in the window "
        f"[{won.ci_low:+.1f}, {won.ci_high:+.1f}] on {won.baseline:.0f} "
        f"({won.difference / won.baseline:+.1%})"
    )
    print(
        f"written: {out / 'validation.csv'}, {out / 'marginal_hour.csv'}, {out / 'validation.png'}"
    )
    return 0


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
