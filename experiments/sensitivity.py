"""Which behavioural parameters drive the answer? Global sensitivity of the alignment effects.

Usage::

    python -m experiments.sensitivity                       # Morris screening, 10 trajectories
    python -m experiments.sensitivity trajectories=20 replicates=3 org=small
    python -m experiments.sensitivity method=sobol samples=64   # Sobol indices (many runs)

The outputs analysed are the *paired* effects of full alignment against the baseline, not raw
levels: for each sampled parameter set, both scenarios run on the same seeds, and the outputs
are the revenue uplift and the win-rate uplift (``full / baseline - 1`` of the means over the
replicate seeds). The parameters and their ranges are calibration's search space
(``experiments.calibrate.SPACE``). Uses SALib's current samplers (``SALib.sample.morris``,
``SALib.sample.sobol``). Writes ``sensitivity.csv`` and ``sensitivity.png``/``.svg`` into
``out`` (default docs/sensitivity) and prints the ranking.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from experiments.calibrate import SPACE
from experiments.common import Bar, fail, parse, replicate, scenario_configs
from sim.io import atomic_write
from sim.params import ConfigError
from sim.plotting import sensitivity_chart
from sim.runner import run_many
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
}
#: the alignment facts whose uplift is analysed, each with the KPI the facts file names for it
OUTPUTS = {fact: FACT_METRICS[fact] for fact in ("revenue_uplift", "win_rate_uplift")}


def problem() -> dict:
    """The SALib problem: calibration's free parameters and their bounds."""
    return {
        "num_vars": len(SPACE),
        "names": list(SPACE),
        "bounds": [list(b) for b in SPACE.values()],
    }


def sample(method: str, prob: dict, opts: dict) -> np.ndarray:
    """Parameter sets to run, by the chosen method."""
    match method:
        case "morris":
            return morris_sample.sample(prob, opts["trajectories"], num_levels=4, seed=opts["seed"])
        case "sobol":
            return sobol_sample.sample(
                prob, opts["samples"], calc_second_order=False, seed=opts["seed"]
            )
        case _:
            raise ConfigError(f"method={method}: must be morris or sobol")


def uplifts(design: np.ndarray, overrides: list[str], opts: dict, progress=None) -> pd.DataFrame:
    """Run baseline and full alignment on the same seeds for each row of ``design``."""
    bases = scenario_configs(["baseline", "full_alignment"], overrides)
    seeds = list(range(opts["seed_base"], opts["seed_base"] + opts["replicates"]))
    names = list(SPACE)
    configs = []
    for row in design:
        params = dict(zip(names, (float(v) for v in row), strict=True))
        for scenario in ("baseline", "full_alignment"):
            configs += replicate(bases[scenario], seeds, **params)
    runs = run_many(configs, n_jobs=opts["n_jobs"], progress=progress)
    per = 2 * len(seeds)
    out = []
    for i in range(len(design)):
        block = runs.iloc[i * per : (i + 1) * per]
        base, full = block.iloc[: len(seeds)], block.iloc[len(seeds) :]
        out.append(
            {name: full[kpi].mean() / base[kpi].mean() - 1.0 for name, kpi in OUTPUTS.items()}
        )
    return pd.DataFrame(out)


def analyse(
    method: str, prob: dict, design: np.ndarray, results: pd.DataFrame, seed: int
) -> pd.DataFrame:
    """One row per parameter x output with the method's indices."""
    rows = []
    for output in results.columns:
        y = results[output].to_numpy(float)
        if method == "morris":
            si = morris_analyze.analyze(prob, design, y, num_levels=4, seed=seed)
            for j, name in enumerate(prob["names"]):
                rows.append(
                    {
                        "parameter": name,
                        "output": output,
                        "mu_star": si["mu_star"][j],
                        "mu_star_conf": si["mu_star_conf"][j],
                        "sigma": si["sigma"][j],
                        "importance": si["mu_star"][j],
                    }
                )
        else:
            si = sobol_analyze.analyze(prob, y, calc_second_order=False, seed=seed)
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
                    }
                )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the sensitivity analysis and write its table and figure."""
    parsed = parse(argv, __doc__, OPTIONS)
    if isinstance(parsed, int):
        return parsed
    opts, overrides = parsed
    try:
        if opts["replicates"] < 1 or opts["trajectories"] < 2 or opts["samples"] < 2:
            raise ConfigError("replicates must be >= 1, trajectories and samples >= 2")
        prob = problem()
        design = sample(opts["method"], prob, opts)
        print(
            f"{opts['method']}: {len(design)} parameter sets x 2 scenarios x "
            f"{opts['replicates']} seeds = {2 * len(design) * opts['replicates']} runs",
            file=sys.stderr,
        )
        results = uplifts(design, overrides, opts, progress=Bar("sensitivity"))
    except ConfigError as exc:
        return fail(exc)
    table = analyse(opts["method"], prob, design, results, opts["seed"])
    out = Path(opts["out"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "sensitivity.csv", lambda p: table.to_csv(p, index=False))
    samples = pd.DataFrame(design, columns=prob["names"]).join(results)
    atomic_write(out / "samples.csv", lambda p: samples.to_csv(p, index=False))
    sensitivity_chart(table, opts["method"], out / "sensitivity")
    for output in results.columns:
        part = table.loc[table.output == output].sort_values("importance", ascending=False)
        shown = (
            part.drop(columns=["output"])
            .head(8)
            .to_string(index=False, float_format="{:.4f}".format)
        )
        print(f"\n{output} (mean {results[output].mean():+.1%} over the samples):\n{shown}")
    print(f"\nwritten: {out / 'sensitivity.csv'}, {out / 'sensitivity.png'}, {out / 'samples.csv'}")
    return 0


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
