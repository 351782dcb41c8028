"""Why does each tactic work? Its mechanisms one at a time, on paired seeds.

Usage::

    python -m experiments.decompose                      # every tactic, 10 seeds, default org
    python -m experiments.decompose tactics=liaison,data_sharing replicates=20 seed_base=100
    python -m experiments.decompose org=small kpi=win_rate days=750
    python -m experiments.decompose hydra.run.dir=decomp/acme --config-dir ~/clients/acme org=mine

For each tactic (default: every registered tactic with at least one mechanism), with the
mechanisms its class declares (``mechanisms``, read at run time): the baseline scenario, the
tactic's own scenario file (``scenario=<tactic>``), the tactic with each mechanism alone and
the tactic without each mechanism, all on the same ``replicates`` seeds (``seed_base``,
``seed_base + 1``, ...). Identical configs run once. Effects are paired relative effects on
``kpi`` against the baseline (``sim.effects``); ``sim.decomposition`` defines every column.

Options: ``tactics=a,b``, ``replicates=`` (>= 2, default 10), ``seed_base=`` (default 1),
``kpi=`` (a registered KPI, default the headline one), ``n_jobs=`` (default -1: every core).
Any other ``key=value`` is a ``python -m sim`` override applied to every run (``org=...``,
``days=...``, ``behaviour.x=...``); ``--config-dir DIR`` adds your own config files.

Writes into its Hydra run directory (``conf/decompose.yaml``: by default
``decompositions/<date>/<time>_<org>``; choose it with ``hydra.run.dir=``, never an existing
one): ``decomposition.csv``, ``decomposition.json`` (org, KPI, seeds, model version, hashes,
time, command), ``runs.csv`` (one row per run) and ``decomposition.png``/``.svg``. The
comparison report (``python -m experiments.compare_tactics``) embeds the newest decomposition
of its organisation. Bad input prints one line and exits 2 before anything is written.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.common import check_run_overrides, entry, split_args
from sim import decomposition as dec
from sim.config import (
    config_dir_args,
    group_options,
    resolve_output_dir,
)
from sim.exits import FAILED, debugging, describe_failure
from sim.kpis import HEADLINE, KPIS
from sim.params import ConfigError, SimConfig, build_config, config_dict
from sim.study import check_writable, open_study, run_configs

CONFIG_NAME = "decompose"
OPTIONS: dict[str, Any] = {
    "tactics": "",
    "replicates": 10,
    "seed_base": 1,
    "kpi": HEADLINE[0],
    "n_jobs": -1,
}


def run_step(configs: list[SimConfig], n_jobs: int) -> pd.DataFrame:
    """Run every config and return one summary row each, in order.

    The one place this program runs the model: on the study runner (warm workers, chunks;
    ``experiments.common.run_summaries``), as the comparison does.
    """
    from experiments.common import run_summaries

    return run_summaries(configs, n_jobs=n_jobs)


def decomposable() -> dict[str, type]:
    """Every registered tactic with at least one mechanism, by name."""
    from sim.tactics import tactic_class, tactic_names

    classes = {name: tactic_class(name) for name in tactic_names()}
    return {name: cls for name, cls in classes.items() if cls.mechanisms}


def _check_options(own: dict[str, Any], rest: list[str]) -> list[str]:
    """Refuse bad options; return the chosen tactics."""
    if own["replicates"] < 2:
        raise ConfigError(
            f"replicates={own['replicates']}: must be a whole number >= 2 (an interval needs "
            "two seed pairs)"
        )
    if own["seed_base"] < 0:
        raise ConfigError(f"seed_base={own['seed_base']}: must be a whole number >= 0")
    if own["n_jobs"] == 0 or own["n_jobs"] < -1:
        raise ConfigError(f"n_jobs={own['n_jobs']}: use -1 for every core, or a positive count")
    if own["kpi"] not in KPIS:
        raise ConfigError(
            f"kpi={own['kpi']}: not a registered KPI; choose one of {', '.join(KPIS)}"
        )
    allowed = decomposable()
    chosen = list(dict.fromkeys(t for t in own["tactics"].split(",") if t)) or list(allowed)
    for tactic in chosen:
        if tactic not in allowed:
            raise ConfigError(
                f"tactics={own['tactics']}: {tactic!r} is not a tactic with mechanisms; "
                f"choose from {', '.join(allowed) or '(none registered)'}"
            )
    check_run_overrides(
        rest,
        {"seed": "seed_base= and replicates=", "scenario": "tactics="},
        runs="a decomposition",
        variants="variant",
        scenario_hint="define the scenario you want as a file (scenario/<name>.yaml under "
        "--config-dir DIR) instead",
    )
    return chosen


def build_plan(
    tactics: list[str], overrides: list[str]
) -> tuple[list[dec.Variant], dict[str, SimConfig], dict[str, dict[str, str]]]:
    """Each variant, its config (seed aside) and each tactic's mechanism descriptions.

    Every name comes from the tactic's class at run time (``type(tactic).mechanisms``).
    """
    import sim

    scenarios = group_options("scenario", overrides, CONFIG_NAME)
    for tactic in tactics:
        if tactic not in scenarios:
            raise ConfigError(
                f"tactics={','.join(tactics)}: no scenario file for {tactic!r} "
                f"(scenario/{tactic}.yaml in conf/ or a --config-dir)"
            )
    base = sim.load_config([f"scenario={dec.BASELINE}", *overrides], CONFIG_NAME)
    plan = [dec.Variant(dec.BASELINE, None, "baseline", None)]
    configs = {dec.BASELINE: base}
    descriptions: dict[str, dict[str, str]] = {}
    for tactic in tactics:
        cfg = sim.load_config([f"scenario={tactic}", *overrides], CONFIG_NAME)
        built = cfg.scenario.tactic_params()
        if tactic not in built:
            raise ConfigError(
                f"tactics={','.join(tactics)}: scenario/{tactic}.yaml does not switch on the "
                f"{tactic} tactic, so it cannot be decomposed"
            )
        mechanisms = type(built[tactic]).mechanisms
        already_off = tuple(built[tactic].switched_off)
        on = [m for m in mechanisms if m not in already_off]
        if not on:
            raise ConfigError(
                f"tactics={','.join(tactics)}: scenario/{tactic}.yaml switches off every "
                f"mechanism of {tactic}; nothing to decompose"
            )
        descriptions[tactic] = dict(mechanisms)
        for variant in dec.variants(tactic, on, already_off):
            plan.append(variant)
            configs[variant.label] = _with_switched_off(cfg, tactic, variant)
    return plan, configs, descriptions


def _with_switched_off(cfg: SimConfig, tactic: str, variant: dec.Variant) -> SimConfig:
    data = config_dict(cfg)
    spec = dict(data["scenario"]["tactics"][tactic])
    spec["switched_off"] = list(variant.switched_off)
    data["scenario"]["tactics"][tactic] = spec
    data["scenario"]["name"] = variant.label
    return build_config(data)


def identity(cfg: SimConfig) -> str:
    """What makes two configs the same run, whatever their labels and seeds."""
    data = config_dict(cfg)
    data.pop("seed")
    data["scenario"].pop("name")
    return json.dumps(data, sort_keys=True, default=str)


def distinct(configs: dict[str, SimConfig]) -> tuple[list[SimConfig], dict[str, int]]:
    """The distinct configs, and for each variant label the index of its config."""
    unique: list[SimConfig] = []
    seen: dict[str, int] = {}
    index: dict[str, int] = {}
    for label, cfg in configs.items():
        key = identity(cfg)
        if key not in seen:
            seen[key] = len(unique)
            unique.append(cfg)
        index[label] = seen[key]
    return unique, index


def main(argv: list[str] | None = None) -> int:
    """Parse, validate everything, then run the decomposition and write it."""
    return entry(sys.argv[1:] if argv is None else argv, __doc__, _main)


def _main(argv: list[str]) -> int:
    from sim.limits import check_fits

    own, rest = split_args(config_dir_args(argv), OPTIONS)
    tactics = _check_options(own, rest)
    plan, configs, descriptions = build_plan(tactics, rest)
    unique, index = distinct(configs)
    for cfg in unique:
        check_fits(cfg)
    out = check_writable(resolve_output_dir(rest, False, CONFIG_NAME))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"{out}: already exists and is not empty; a decomposition is never written over "
            "another's files: choose another hydra.run.dir= (nothing was written)"
        )
    seeds = list(range(own["seed_base"], own["seed_base"] + own["replicates"]))
    runs = [build_config(cfg, seed=s) for cfg in unique for s in seeds]
    settings = {
        "program": "python -m experiments.decompose",
        "kpi": own["kpi"],
        "seed_base": own["seed_base"],
        "replicates": own["replicates"],
        "tactics": tactics,
        "runs": run_configs(unique),
    }
    with open_study(out, settings, resume=False, resume_hint="another hydra.run.dir="):
        print(
            f"decomposing {', '.join(tactics)} on org '{configs[dec.BASELINE].org.name}': "
            f"{len(configs)} variants ({len(unique)} distinct) x {len(seeds)} seeds = "
            f"{len(runs)} runs -> {out}",
            file=sys.stderr,
        )
        started = time.perf_counter()
        step = "a run"
        try:
            summaries = run_step(runs, own["n_jobs"])
            wall = time.perf_counter() - started
            step = "writing the decomposition"
            table = write(out, own, plan, configs, descriptions, unique, index, seeds, summaries)
            _record(out, own, tactics, plan, configs, unique, seeds, wall, argv)
        except Exception as exc:  # after work started: one line, exit 1
            if debugging(argv):
                raise
            print(
                f"error: {step} failed: {describe_failure(exc)}; {out} is incomplete "
                "(no decomposition.json), run again into another hydra.run.dir=",
                file=sys.stderr,
            )
            return FAILED
    print(_summary_text(table, own["kpi"], len(seeds)))
    missing = table.loc[table.n < len(seeds)]
    if len(missing):
        print(
            f"note: {own['kpi']} has no value in some runs (a rate with no events in the "
            f"window), so {len(missing)} row(s) rest on fewer than {len(seeds)} seed pairs "
            "(column n); a longer run (days=) or another kpi= avoids it",
            file=sys.stderr,
        )
    print(f"\nwritten: {out / dec.TABLE}, {out / (dec.FIGURE + '.png')}, {out / dec.RECORD}")
    return 0


def write(
    out: Path,
    own: dict[str, Any],
    plan: list[dec.Variant],
    configs: dict[str, SimConfig],
    descriptions: dict[str, dict[str, str]],
    unique: list[SimConfig],
    index: dict[str, int],
    seeds: list[int],
    summaries: pd.DataFrame,
) -> pd.DataFrame:
    """Write the table, the runs (one row each) and the figure; return the table."""
    from sim.io import atomic_write
    from sim.plotting import decomposition_chart

    kpi = own["kpi"]
    k = len(seeds)
    labels_of: dict[int, list[str]] = {}
    for label, i in index.items():
        labels_of.setdefault(i, []).append(label)
    tidy = summaries.copy()
    tidy.insert(0, "variants", [" ".join(labels_of[i // k]) for i in range(len(tidy))])
    tidy.insert(1, "switched_off", [_off(unique[i // k]) for i in range(len(tidy))])
    long = pd.DataFrame(
        [
            {"variant": v.label, "seed": seeds[j], kpi: summaries[kpi].iloc[index[v.label] * k + j]}
            for v in plan
            for j in range(k)
        ]
    )
    table = dec.decomposition_table(long, plan, kpi, descriptions)
    atomic_write(out / dec.RUNS, lambda p: tidy.to_csv(p, index=False))
    decomposition_chart(table, kpi, k, out / dec.FIGURE)
    atomic_write(out / dec.TABLE, lambda p: table.to_csv(p, index=False))
    return table


def _record(
    out: Path,
    own: dict[str, Any],
    tactics: list[str],
    plan: list[dec.Variant],
    configs: dict[str, SimConfig],
    unique: list[SimConfig],
    seeds: list[int],
    wall: float,
    argv: list[str],
) -> None:
    """Write decomposition.json, last: where the decomposition came from."""
    import sim
    from sim.io import atomic_write, recorded_config_hash, settings_hash, source_digest, versions

    base = configs[dec.BASELINE]
    record = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "program": "python -m experiments.decompose",
        "command": " ".join(["python -m experiments.decompose", *argv]),
        "org": base.org.name,
        "org_params": {k2: v for k2, v in config_dict(base)["org"].items() if k2 != "name"},
        "kpi": own["kpi"],
        "tactics": tactics,
        "replicates": len(seeds),
        "seed_base": own["seed_base"],
        "seeds": seeds,
        "days": base.days,
        "warmup_days": base.warmup_days,
        "version": sim.__version__,
        "source_digest": source_digest(),
        "settings_hash": settings_hash(base),  # equal to a comparison run's with the same setup
        "config_hash": recorded_config_hash({"runs": run_configs(unique)}),
        "variants": [
            {
                "label": v.label,
                "tactic": v.tactic,
                "kind": v.kind,
                "mechanism": v.mechanism,
                "switched_off": list(v.switched_off),
            }
            for v in plan
        ],
        "runs": len(unique) * len(seeds),
        "wall_seconds": round(wall, 1),
        "versions": versions(),
        "columns": "see sim/decomposition.py: lo95/hi95 are the interval of effect_alone",
    }
    atomic_write(out / dec.RECORD, lambda p: p.write_text(json.dumps(record, indent=2) + "\n"))


def _off(cfg: SimConfig) -> str:
    parts = []
    for name, spec in config_dict(cfg)["scenario"]["tactics"].items():
        off = spec.get("switched_off") or []
        if off:
            parts.append(f"{name}:{'+'.join(off)}")
    return " ".join(parts)


def _summary_text(table: pd.DataFrame, kpi: str, n: int) -> str:
    label = KPIS[kpi].label
    head = (
        f"Effect decomposition of {label} against the baseline: relative change [95% interval], "
        f"{n} seed-paired replicates; (ns) = interval includes 0"
    )
    return f"\n{head}\n{dec.display_table(table).to_string(index=False)}"


if __name__ == "__main__":
    sys.exit(main())
