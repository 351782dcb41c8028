"""What drives a tactic's effect? Global sensitivity over any factors of the declared space.

Usage::

    python -m experiments.sensitivity                       # Morris screening, 10 trajectories
    python -m experiments.sensitivity trajectories=20 replicates=3 org=small
    python -m experiments.sensitivity method=sobol samples=64   # Sobol indices (many runs)
    python -m experiments.sensitivity factors=uncertainties scenario=liaison kpis=revenue_per_year
    python -m experiments.sensitivity factors=levers,org.n_reps:4:12 org=small
    python -m experiments.sensitivity scenario=liaison factors=scenario.tactics.liaison.sla_days:0:5

The outputs analysed are *paired* effects of a scenario (``scenario=``, default
full_alignment) against the baseline (``baseline=``), not raw levels: for each sampled point,
both scenarios run on the same seeds (``replicates`` of them, from ``seed_base``), and each
output is the effect on one KPI of the registry (``kpis=``, default revenue_per_year and
win_rate): ``scenario / baseline - 1`` of the means over the seeds (``effect=relative``), or
the difference of the means (``effect=difference``). The outputs are named ``<kpi>_uplift``
(revenue_per_year's is ``revenue_uplift``).

The factors (``factors=``, comma-separated) come from the declared experiment space
(``sim.space``); any mix of:

- ``fitted`` (the default): the behavioural parameters calibration fits, over its search
  bounds (``experiments.calibrate.SPACE``);
- ``uncertainties``: every uncertainty of the two scenarios (behavioural, and the parameters
  of their tactics), each drawn from its plausible range and shape;
- ``levers``: the decisions that need no range: the funnel and each registered tactic on or
  off (in the scenario only; the baseline stays the baseline);
- one parameter by its key: ``behaviour.<name>``, ``scenario.tactics.<tactic>.<name>``,
  ``scenario.tactics.<tactic>`` (on or off), ``scenario.funnel``, ``org.<name>``; any of them
  with a range ``key:LOW:HIGH`` (uniform). An organisation's number or a tactic's numeric lever
  has no plausible range, so it needs one.

Behavioural parameters, organisation numbers and tactic uncertainties apply to both scenarios
(a tactic's only where it is on); levers to the scenario only. Samples come from SALib's
samplers (``SALib.sample.morris``, ``SALib.sample.sobol``) in unit coordinates, mapped to
values through each factor's distribution (a whole-number range as equal slices, one per
value; a switch is on above one half), so Morris' elementary effects are per fraction of
each factor's range. The runs go to the study runner (``sim.batch.run_study``: warm workers,
as the comparison); ``study=DIR`` keeps their tidy table (``runs.parquet``), otherwise it is
written in a temporary directory.

An index whose 95% confidence interval is wider than the index itself says little: the
program warns in one line when the sample is too small for any of its indices, and marks
each such index in ``sensitivity.csv`` (``wide_interval``). Writes ``sensitivity.csv``,
``samples.csv`` and ``sensitivity.png``/``.svg`` into ``out`` (default docs/sensitivity) and
prints the ranking.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from experiments.calibrate import SPACE
from experiments.common import fail, parse, run_rows, scenario_configs
from sim.io import atomic_write
from sim.params import ConfigError, SimConfig, build_config, config_dict
from sim.plotting import sensitivity_chart
from sim.validation import FACT_METRICS

OPTIONS = {
    "method": "morris",
    "trajectories": 10,
    "samples": 64,
    "replicates": 2,
    "seed": 0,
    "seed_base": 20_000,
    "n_jobs": -1,
    "out": "docs/sensitivity",
    "factors": "fitted",
    "scenario": "full_alignment",
    "baseline": "baseline",
    "kpis": "revenue_per_year,win_rate",
    "effect": "relative",
    "study": "",
}
#: Outputs named before any KPI could be chosen, kept: each alignment fact with the KPI the
#: facts file names for it.
OUTPUTS = {fact: FACT_METRICS[fact] for fact in ("revenue_uplift", "win_rate_uplift")}
GROUPS = ("fitted", "uncertainties", "levers")
EFFECTS = ("relative", "difference")
NUM_LEVELS = 4  # Morris grid levels


@dataclass(frozen=True)
class Factor:
    """One factor: its config key, its name in the tables, and how a unit coordinate maps.

    ``kind``: ``float``/``int`` (``low``..``high`` uniform, or ``dist``'s inverse CDF),
    ``bool`` (on above one half) or ``choice`` (``choices`` in equal slices). ``scenario_only``:
    a lever, set in the scenario and not in the baseline.
    """

    key: str
    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    dist: Any = None  # a sim.space.Uncertainty, whose ppf maps unit coordinates
    choices: tuple[Any, ...] = ()
    scenario_only: bool = False

    def value(self, u: float) -> Any:
        """The factor's value at unit coordinate ``u`` in [0, 1]."""
        if self.kind == "bool":
            return bool(u >= 0.5)
        if self.kind == "choice":
            return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
        if self.dist is not None:
            return self.dist.ppf([u])[0].item()
        if self.kind == "int":  # each whole number equally likely, as sim.space draws them
            slices = int(self.high) - int(self.low) + 1
            return min(int(self.low) + int(np.floor(u * slices)), int(self.high))
        return float(self.low + u * (self.high - self.low))


def output_name(kpi: str) -> str:
    """The output column of a KPI's effect."""
    return next((name for name, k in OUTPUTS.items() if k == kpi), f"{kpi}_uplift")


def _short(key: str) -> str:
    """A factor's name in the tables: a behavioural parameter by its own name, others by key."""
    return key.removeprefix("behaviour.")


def _range(text: str, key: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(":"))
    except ValueError:
        raise ConfigError(f"factors: {key}:{text}: a range is key:LOW:HIGH (two numbers)") from None
    if not low < high:
        raise ConfigError(f"factors: {key}:{text}: needs LOW < HIGH")
    return low, high


def _bounded(param: Any, rng: tuple[float, float] | None, what: str) -> Factor:
    """A numeric factor over ``rng`` (required), checked against the parameter's bounds."""
    if rng is None:
        raise ConfigError(
            f"factors: {param.key}: {what} has no plausible range; give one as {param.key}:LOW:HIGH"
        )
    low, high = rng
    if (param.lo is not None and low < param.lo) or (param.hi is not None and high > param.hi):
        raise ConfigError(
            f"factors: {param.key}:{low:g}:{high:g}: outside its allowed range "
            f"[{param.lo if param.lo is not None else '-inf'}, "
            f"{param.hi if param.hi is not None else 'inf'}]"
        )
    return Factor(param.key, _short(param.key), param.kind, low, high)


def _lever_factor(lever: Any, rng: tuple[float, float] | None) -> Factor:
    if lever.kind == "bool":
        return Factor(lever.key, lever.key, "bool", scenario_only=True)
    if lever.kind == "choice":
        return Factor(lever.key, lever.key, "choice", choices=lever.choices, scenario_only=True)
    factor = _bounded(lever, rng, "a tactic's lever (a decision)")
    return dataclasses.replace(factor, scenario_only=True)


def factors_of(text: str, configs: list[SimConfig]) -> list[Factor]:
    """The factors ``factors=`` names (see the module docstring), in the order named.

    Raises:
        ConfigError: an unknown group or key, a numeric lever or organisation number without
            a range, a malformed range, or a factor named twice.
    """
    from sim.space import ExperimentSpace

    space = ExperimentSpace()  # every registered tactic: a switch may turn any of them on
    uncertainties = {u.key: u for u in space.uncertainties()}
    of_scenarios = [u.key for u in space.uncertainties(configs)]
    levers = {lever.key: lever for lever in space.levers()}
    org = {o.key: o for o in space.organisation()}
    fitted = {f"behaviour.{name}": bounds for name, bounds in SPACE.items()}
    out: list[Factor] = []
    for token in filter(None, (t.strip() for t in text.split(","))):
        key, _, spec = token.partition(":")
        rng = _range(spec, key) if spec else None
        if key in GROUPS and rng is not None:
            raise ConfigError(f"factors: {token}: a group takes no range")
        if key == "fitted":
            out += [Factor(k, _short(k), "float", lo, hi) for k, (lo, hi) in fitted.items()]
        elif key == "uncertainties":
            out += [
                Factor(k, _short(k), uncertainties[k].kind, dist=uncertainties[k])
                for k in of_scenarios
            ]
        elif key == "levers":
            out += [
                _lever_factor(lv, None) for lv in levers.values() if lv.kind in ("bool", "choice")
            ]
        elif key in fitted:
            lo, hi = rng or fitted[key]
            out.append(Factor(key, _short(key), "float", lo, hi))
        elif key in uncertainties:
            u = uncertainties[key]
            out.append(_bounded(u, rng, "") if rng else Factor(key, _short(key), u.kind, dist=u))
        elif key in levers:
            out.append(_lever_factor(levers[key], rng))
        elif key in org:
            out.append(_bounded(org[key], rng, "an organisation's number"))
        else:
            raise ConfigError(
                f"factors: {key!r} is not a factor of the space; use {', '.join(GROUPS)}, or a "
                "key: behaviour.<name>, scenario.tactics.<tactic>[.<name>] (of the scenarios' "
                "tactics), scenario.funnel, org.<name>"
            )
    if not out:
        raise ConfigError("factors: none given; use fitted, uncertainties, levers or keys")
    keys = [f.key for f in out]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice:
        raise ConfigError(f"factors: {twice} is named twice")
    return out


def configure(base: SimConfig, values: dict[str, Any], factors: list[Factor], scenario: bool):
    """``base`` with the factors' ``values`` (levers only when ``scenario``)."""
    data = config_dict(base)
    tactics = data["scenario"]["tactics"]
    ordered = sorted(factors, key=lambda f: f.key.count("."))  # switches before parameters
    for f in ordered:
        if f.scenario_only and not scenario:
            continue
        value, parts = values[f.key], f.key.split(".")
        if parts[0] in ("org", "behaviour"):
            data[parts[0]][parts[1]] = value
        elif f.key == "scenario.funnel":
            data["scenario"]["funnel"] = value
        elif len(parts) == 3:  # a tactic on or off
            if value:
                tactics.setdefault(parts[2], {})
            else:
                tactics.pop(parts[2], None)
        elif parts[2] in tactics:  # a tactic's parameter, where the tactic is on
            tactics[parts[2]][parts[3]] = value
    return build_config(data)


def problem(factors: list[Factor] | None = None) -> dict:
    """The SALib problem: one unit interval per factor (default: calibration's parameters)."""
    if factors is None:
        factors = [Factor(f"behaviour.{n}", n, "float", lo, hi) for n, (lo, hi) in SPACE.items()]
    return {
        "num_vars": len(factors),
        "names": [f.name for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }


def points(factors: list[Factor], design: np.ndarray) -> pd.DataFrame:
    """The factors' values at each point of ``design`` (unit coordinates), by factor key."""
    return pd.DataFrame(
        [[f.value(u) for f, u in zip(factors, row, strict=True)] for row in design],
        columns=[f.key for f in factors],
    )


def sample(method: str, prob: dict, opts: dict) -> np.ndarray:
    """Points to run, in unit coordinates, by the chosen method."""
    match method:
        case "morris":
            return morris_sample.sample(
                prob, opts["trajectories"], num_levels=NUM_LEVELS, seed=opts["seed"]
            )
        case "sobol":
            return sobol_sample.sample(
                prob, opts["samples"], calc_second_order=False, seed=opts["seed"]
            )
        case _:
            raise ConfigError(f"method={method}: must be morris or sobol")


def paired_runs(
    values: pd.DataFrame, factors: list[Factor], bases: dict[str, SimConfig], opts: dict
) -> tuple[list[SimConfig], list[str]]:
    """The baseline and the scenario at each point, on the same seeds: configs and run ids.

    Run ``p<point>_<baseline|scenario>_seed<seed>``, in the order of the points; ``effects``
    reads the point and the side back from the id.
    """
    seeds = list(range(opts["seed_base"], opts["seed_base"] + opts["replicates"]))
    configs, ids = [], []
    for i, point in enumerate(values.to_dict("records")):
        for which, scenario in (("baseline", False), ("scenario", True)):
            cfg = configure(bases[which], point, factors, scenario)
            for seed in seeds:
                configs.append(dataclasses.replace(cfg, seed=seed))
                ids.append(f"p{i:05d}_{which}_seed{seed}")
    return configs, ids


def effects(runs: pd.DataFrame, ids: list[str], kpis: list[str], effect: str) -> pd.DataFrame:
    """Each point's effect on each KPI: the scenario's mean over the seeds against the baseline's.

    ``runs``: the rows of ``paired_runs``' runs, in the order of ``ids``.
    """
    runs = runs[kpis].assign(point=[int(i[1:6]) for i in ids], which=[i.split("_")[1] for i in ids])
    means = runs.groupby(["point", "which"])[kpis].mean()
    out = {}
    for kpi in kpis:
        base, scen = (
            means[kpi].xs("baseline", level="which"),
            means[kpi].xs("scenario", level="which"),
        )
        if effect == "difference":
            out[output_name(kpi)] = scen - base
        else:
            out[output_name(kpi)] = (scen / base.where(base != 0)) - 1.0
    return pd.DataFrame(out).reset_index(drop=True)


def uplifts(
    values: pd.DataFrame,
    factors: list[Factor],
    bases: dict[str, SimConfig],
    opts: dict,
    kpis: list[str],
) -> pd.DataFrame:
    """Run the baseline and the scenario on the same seeds at each point; their effects."""
    configs, ids = paired_runs(values, factors, bases, opts)
    runs = run_rows(configs, n_jobs=opts["n_jobs"], ids=ids, study=opts["study"] or None)
    return effects(runs, ids, kpis, opts["effect"])


def analyse(
    method: str, prob: dict, design: np.ndarray, results: pd.DataFrame, seed: int
) -> pd.DataFrame:
    """One row per parameter x output with the method's indices and whether they are too wide.

    ``wide_interval``: the index's 95% confidence interval (``*_conf`` is its half-width) is
    wider than the index itself (Morris mu*, Sobol ST): the sample is too small to tell it.
    """
    rows = []
    for output in results.columns:
        y = results[output].to_numpy(float)
        if method == "morris":
            si = morris_analyze.analyze(prob, design, y, num_levels=NUM_LEVELS, seed=seed)
            for j, name in enumerate(prob["names"]):
                rows.append(
                    {
                        "parameter": name,
                        "output": output,
                        "mu_star": si["mu_star"][j],
                        "mu_star_conf": si["mu_star_conf"][j],
                        "sigma": si["sigma"][j],
                        "importance": si["mu_star"][j],
                        "wide_interval": bool(2 * si["mu_star_conf"][j] > abs(si["mu_star"][j])),
                    }
                )
        else:
            # SALib seeds its bootstrap only for a truthy seed: seed=0 (the default) left the
            # confidence intervals unseeded. A generator is truthy, and default_rng(seed) is
            # what SALib makes of any other seed, so those give the intervals they gave.
            rng = np.random.default_rng(seed)
            si = sobol_analyze.analyze(prob, y, calc_second_order=False, seed=rng)
            for j, name in enumerate(prob["names"]):
                rows.append(
                    {
                        "parameter": name,
                        "output": output,
                        "S1": si["S1"][j],
                        "S1_conf": si["S1_conf"][j],
                        "ST": si["ST"][j],
                        "ST_conf": si["ST_conf"][j],
                        "importance": si["ST"][j],
                        "wide_interval": bool(2 * si["ST_conf"][j] > abs(si["ST"][j])),
                    }
                )
    return pd.DataFrame(rows)


def too_small(table: pd.DataFrame, method: str) -> str | None:
    """One line saying the sample is too small for some indices, or None."""
    wide = int(table.wide_interval.sum())
    if not wide:
        return None
    more = "trajectories=" if method == "morris" else "samples="
    return (
        f"warning: the sample is too small for {wide} of {len(table)} indices (their 95% "
        f"interval is wider than the index: wide_interval in sensitivity.csv); raise {more} "
        "or replicates= for indices that can be told apart"
    )


def _check(opts: dict) -> list[str]:
    if opts["replicates"] < 1 or opts["trajectories"] < 2 or opts["samples"] < 2:
        raise ConfigError("replicates must be >= 1, trajectories and samples >= 2")
    if opts["effect"] not in EFFECTS:
        raise ConfigError(f"effect={opts['effect']}: must be one of {', '.join(EFFECTS)}")
    from sim.kpis import KPIS

    kpis = list(dict.fromkeys(k.strip() for k in opts["kpis"].split(",") if k.strip()))
    unknown = [k for k in kpis if k not in KPIS]
    if unknown or not kpis:
        raise ConfigError(
            f"kpis={opts['kpis']}: {unknown[0] if unknown else 'none'} is not a KPI; "
            f"choose from {', '.join(KPIS)}"
        )
    if opts["scenario"] == opts["baseline"]:
        raise ConfigError(f"scenario={opts['scenario']}: the same as the baseline")
    if opts["study"]:
        from sim.study import check_writable

        study = check_writable(opts["study"])
        if study.exists() and any(study.iterdir()):
            raise ConfigError(f"study={study}: not empty; choose a new directory")
    return kpis


def main(argv: list[str] | None = None) -> int:
    """Run the sensitivity analysis and write its table and figure."""
    parsed = parse(argv, __doc__, OPTIONS)
    if isinstance(parsed, int):
        return parsed
    opts, overrides = parsed
    try:
        kpis = _check(opts)
        configs = scenario_configs([opts["baseline"], opts["scenario"]], overrides)
        bases = {"baseline": configs[opts["baseline"]], "scenario": configs[opts["scenario"]]}
        factors = factors_of(opts["factors"], list(bases.values()))
        prob = problem(factors)
        design = sample(opts["method"], prob, opts)
        values = points(factors, design)
        for which in ("baseline", "scenario"):  # every value is checked before any run
            for point in values.drop_duplicates().to_dict("records"):
                configure(bases[which], point, factors, which == "scenario")
    except ConfigError as exc:
        return fail(exc)
    print(
        f"{opts['method']}: {len(design)} points of {len(factors)} factors x 2 scenarios x "
        f"{opts['replicates']} seeds = {2 * len(design) * opts['replicates']} runs",
        file=sys.stderr,
    )
    results = uplifts(values, factors, bases, opts, kpis)
    undefined = results.isna().any()
    if undefined.any():
        name = undefined.idxmax()
        print(
            f"error: {name} is undefined at {int(results[name].isna().sum())} of "
            f"{len(results)} points (the baseline's mean is 0 there); use effect=difference",
            file=sys.stderr,
        )
        return 1
    table = analyse(opts["method"], prob, design, results, opts["seed"])
    out = Path(opts["out"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "sensitivity.csv", lambda p: table.to_csv(p, index=False))
    samples = values.set_axis([f.name for f in factors], axis=1).join(results)
    atomic_write(out / "samples.csv", lambda p: samples.to_csv(p, index=False))
    scenario = opts["scenario"].replace("_", " ")
    sensitivity_chart(table, opts["method"], out / "sensitivity", scenario=scenario)
    for output in results.columns:
        part = table.loc[table.output == output].sort_values("importance", ascending=False)
        shown = (
            part.drop(columns=["output"])
            .head(8)
            .to_string(index=False, float_format="{:.4f}".format)
        )
        mean = results[output].mean()
        level = f"{mean:+.1%}" if opts["effect"] == "relative" else f"{mean:+,.4g}"
        print(f"\n{output} (mean {level} over the samples):\n{shown}")
    warning = too_small(table, opts["method"])
    if warning:
        print(warning, file=sys.stderr)
    print(f"\nwritten: {out / 'sensitivity.csv'}, {out / 'sensitivity.png'}, {out / 'samples.csv'}")
    return 0


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
