"""Fit the free behavioural parameters to the published facts (pattern-oriented modelling).

Usage::

    python -m experiments.calibrate                          # 80 trials x 4 replicates
    python -m experiments.calibrate trials=200 replicates=6 seed=7
    python -m experiments.calibrate out=/tmp/cal.yaml        # write elsewhere

Each trial sets the behavioural parameters in ``SPACE`` (not the tactic switches, not team
sizes or other organisation numbers, never a tactic's parameters), runs the *baseline* on the
default organisation for ``replicates`` seeds (from 10,000, apart from validation's), and
scores the baseline facts (levels and ratios of the misaligned organisation:
``sim.validation.fitted_facts``) with ``sim.validation.calibration_loss``: each fact's
distance from its target in units of its published range, with a heavy penalty outside the
range. Optuna's TPE sampler (seeded, so a rerun with the same settings proposes the same
trials) searches the
space, starting from the current defaults.

The facts about what alignment does (uplifts, orderings) are held out of the fit: they are
what the tactics' mechanisms must reproduce unaided, and ``experiments.validate`` reports for
each whether it is reached or missed. Fitting a parameter to them would let calibration
choose a tactic's strength: an outcome multiplier under another name.

Writes ``conf/behaviour/calibrated.yaml`` (the fitted values, with a header recording how and
when they were fitted) and ``docs/calibration/trials.csv`` (every trial's parameters and loss).
The defaults in ``sim/params.py`` must match the calibrated file (a test checks it), so that
``FunnelModel()`` and ``python -m sim`` agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import optuna
import pandas as pd

from experiments.common import Bar, fail, parse, replicate, run_summaries, scenario_configs
from sim.config import CONF_DIR
from sim.io import atomic_write
from sim.params import BehaviourParams, ConfigError
from sim.validation import (
    calibration_loss,
    evaluate,
    fitted_facts,
    load_facts,
    scenarios_needed,
)

#: The free parameters and their search bounds (each inside its declared range), declared where
#: each parameter is (``fitted=`` in ``sim/params.py``), in declaration order. Bounds are wide
#: enough that the fit does not end on one, except where the evidence sets them:
#: ``contact_rate`` (the chance to reach a lead called at once, eventually) is 0.55-0.9 in the
#: B2B contact studies (InsideSales/XANT, Velocify; docs/ODD.md), so at most 0.95. Every other
#: behavioural parameter is an uncertainty with a plausible range (``sim.space``).
SPACE: dict[str, tuple[float, float]] = {
    f.name: tuple(f.metadata["fitted"])
    for f in dataclasses.fields(BehaviourParams)
    if f.metadata.get("fitted")
}
OPTIONS = {
    "trials": 80,
    "replicates": 4,
    "seed": 0,
    "seed_base": 10_000,
    "n_jobs": -1,
    "out": str(CONF_DIR / "behaviour" / "calibrated.yaml"),
    "trials_out": "docs/calibration/trials.csv",
}


def objective_factory(
    bases: dict, seeds: list[int], n_jobs: int, facts: list, bar: Bar | None = None, total: int = 0
):
    """The Optuna objective: run the scenarios with a trial's parameters, score the facts."""

    def objective(trial: optuna.Trial) -> float:
        params = {k: trial.suggest_float(k, lo, hi) for k, (lo, hi) in SPACE.items()}
        configs, labels = [], []
        for name, base in bases.items():
            configs += replicate(base, seeds, **params)
            labels += [name] * len(seeds)
        runs = run_summaries(configs, n_jobs=n_jobs, progress=False)
        table = evaluate(runs, {}, facts)
        trial.set_user_attr("passed", int(table.passed.sum()))
        trial.set_user_attr("checked", len(table))
        if bar is not None:
            bar(trial.number + 1, total)
        return calibration_loss(table)

    return objective


def write_calibrated(path: Path, params: dict[str, float], record: dict[str, object]) -> None:
    """Write the fitted values as a behaviour config, with the record in its header."""
    lines = [
        "# Calibrated behavioural parameters, written by experiments.calibrate.",
        *[f"#   {k}: {v}" for k, v in record.items()],
        "# Every other behavioural parameter keeps its default from sim/params.py.",
        "",
    ]
    lines += [f"{k}: {round(v, 4)}" for k, v in params.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    # atomic: this file is the default behaviour of every run composed meanwhile
    atomic_write(path, lambda p: p.write_text("\n".join(lines) + "\n"))


def main(argv: list[str] | None = None) -> int:
    """Run the calibration and write its results."""
    argv = sys.argv[1:] if argv is None else argv
    parsed = parse(argv, __doc__, OPTIONS)
    if isinstance(parsed, int):
        return parsed
    opts, overrides = parsed
    try:
        if opts["trials"] < 1 or opts["replicates"] < 2:
            raise ConfigError("trials must be >= 1 and replicates >= 2")
        facts = fitted_facts(load_facts())
        bases = scenario_configs(scenarios_needed(facts), overrides)
    except ConfigError as exc:
        return fail(exc)
    seeds = list(range(opts["seed_base"], opts["seed_base"] + opts["replicates"]))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(
        seed=opts["seed"], multivariate=True, n_startup_trials=min(20, opts["trials"])
    )
    study = optuna.create_study(direction="minimize", sampler=sampler)
    defaults = BehaviourParams()
    study.enqueue_trial(
        {k: min(max(getattr(defaults, k), lo), hi) for k, (lo, hi) in SPACE.items()}
    )
    started = dt.datetime.now(dt.UTC)
    bar = Bar("calibration trials")
    study.optimize(
        objective_factory(bases, seeds, opts["n_jobs"], facts, bar, opts["trials"]),
        n_trials=opts["trials"],
    )
    best = study.best_trial
    record = {
        "fitted": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m experiments.calibrate " + " ".join(argv),
        "method": f"Optuna {optuna.__version__} TPE (multivariate), sampler seed {opts['seed']}",
        "trials": opts["trials"],
        "replicates": f"{opts['replicates']} seeds from {opts['seed_base']} per scenario",
        "scenarios": ", ".join(bases),
        "loss": round(best.value, 4),
        "facts_in_range": f"{best.user_attrs['passed']} of {best.user_attrs['checked']} "
        "(in-sample; see experiments.validate for out-of-sample)",
    }
    out = Path(opts["out"])
    write_calibrated(out, best.params, record)
    trials = study.trials_dataframe()
    Path(opts["trials_out"]).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(opts["trials_out"]), lambda p: trials.to_csv(p, index=False))
    default_loss = study.trials[0].value
    print(
        f"\nbest loss {best.value:.3f} (the previous defaults: {default_loss:.3f}); "
        f"{best.user_attrs['passed']} of {best.user_attrs['checked']} facts in range"
    )
    print(pd.Series(best.params).round(4).to_string())
    print(f"\nwritten: {out} and {opts['trials_out']}")
    print(
        "make these the Python defaults too: update BehaviourParams in sim/params.py "
        "(tests/test_experiments.py checks they match)"
    )
    return 0


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
