"""Your funnel: fit the model to a client's CRM export, then rank the tactics for that client.

Usage::

    python -m experiments.diagnose data=examples/export.csv team=examples/team.yaml
    python -m experiments.diagnose data=crm.csv team=team.yaml n_reps=9 org_name=acme
    python -m experiments.diagnose data=crm.csv team=team.yaml particles=600 draws=40
    python -m experiments.diagnose data=crm.csv team=team.yaml compare=false   # the fit only
    python -m experiments.diagnose data=crm.csv team=team.yaml hydra.run.dir=diagnoses/acme

``data=``: the lead-level CSV (columns in ``sim/export.py`` and the README, with HubSpot and
Salesforce mappings). ``team=``: a YAML of what an export cannot show (``n_reps``,
``n_marketers``, ``rep_hours_per_day``, ``contract_days``; unknown keys are refused); the
same keys may be given on the command line (``n_reps=9``), which wins. The rest:

1. the export is summarised as the funnel statistics the model produces, with 95% intervals
   (``statistics.csv``; a statistic named like a KPI has the KPI's definition, over the
   days after ``warmup_days``: the export's first days only see leads created inside it);
2. the lead volume, deal sizes and opportunity cycle are fitted directly, the behavioural
   parameters (those declared ``fitted=`` in ``sim/params.py``) by simulation-based
   calibration (``sim.fit``: ``rounds`` rounds of ``particles`` draws, each one run of the
   client's organisation over the export's span, the first from the prior, the second from
   the prior truncated to where the first round's fit lies; ABC rejection keeping
   ``accept`` of them with a regression adjustment); ``posterior.csv`` says which
   parameters the data pins down;
   ``check`` posterior-predictive runs give ``fit.csv``: each statistic, the client's value,
   the model's central 90% interval, and whether it was fitted (``calibrated``, ``direct``,
   ``no``, ``no: needs <column>``);
3. with ``compare=true`` (default) the tactics are compared on the fitted organisation
   (``replicates`` seeds at the posterior median, and ``draws`` draws that take the
   behavioural parameters from the posterior and every other assumption from its plausible
   range): effects.csv, uncertainty.csv, figures/, report.md and report.html, whose first
   section is "Your funnel". ``scenarios=a,b`` limits the tactics compared.

Options (default): ``warmup_days`` (125), ``particles`` (300 per round), ``rounds`` (2),
``accept`` (0.5), ``check`` (20), ``replicates`` (5), ``draws`` (20), ``scenarios`` (all),
``seed`` (0), ``n_jobs`` (-1), ``org_name`` (client), ``compare`` (true). Any other
``key=value`` is a ``python -m sim`` override (``behaviour.x=...`` pins an assumption).
Writes into its Hydra run directory (``conf/diagnose.yaml``:
``diagnoses/<date>/<time>_<org_name>``; ``hydra.run.dir=`` chooses it, never an existing
one): also ``calibration_runs.csv`` (every calibration run: its round, parameters,
statistics, distance, and whether it could be and was kept), ``conf/org/<org_name>.yaml``
and ``conf/behaviour/<org_name>.yaml`` (the fitted organisation, for ``--config-dir``), and
``diagnose.json`` (the record, written last). Bad input (a missing column, an empty or
too-small export, an unreadable team file, more than 20% faulty rows) prints one line and
exits 2 before anything is written; faulty rows are skipped and counted in the report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from experiments.common import Bar, entry, split_args
from sim import export as ex
from sim import fit
from sim.config import SCENARIO_EDIT, config_dir_args, expand_sweep, resolve_output_dir
from sim.exits import FAILED, debugging, describe_failure
from sim.params import ConfigError, SimConfig, build_config
from sim.study import check_writable

CONFIG_NAME = "diagnose"
OPTIONS: dict[str, Any] = {
    "data": None,
    "team": None,
    "warmup_days": 125,
    "particles": 300,
    "rounds": fit.ROUNDS,
    "accept": 0.5,
    "check": 20,
    "replicates": 5,
    "draws": 20,
    "scenarios": "",
    "seed": 0,
    "n_jobs": -1,
    "org_name": "client",
    "compare": True,
    **dict.fromkeys(ex.TEAM_KEYS),
}
#: The least number of measured days (after the warm-up) a fit needs.
MIN_WINDOW_DAYS = 60
PILOT_SEEDS = [70_000, 70_001]
#: Arguments the program sets itself, and what to use instead.
OWN_KEYS = {
    "seed": "seed=",
    "scenario": "scenarios=",
    "days": "the export's span (set from data=)",
    "warmup_days": "warmup_days= (this program's option)",
    "org": "team= and the fit",
}


def _check_options(own: dict[str, Any], rest: list[str]) -> dict[str, Any]:
    """Refuse bad options before anything runs; return the team's command-line values."""
    if not own["data"]:
        raise ConfigError("data=: required; the CRM export CSV (see --help for its columns)")
    for key, least in (("particles", 20), ("check", 2), ("replicates", 2), ("draws", 0)):
        if own[key] < least:
            raise ConfigError(f"{key}={own[key]}: must be a whole number >= {least}")
    if own["rounds"] not in (1, 2):
        raise ConfigError(
            f"rounds={own['rounds']}: 1 (from the prior) or 2 (then from the truncated prior)"
        )
    if not 0 < own["accept"] <= 1:
        raise ConfigError(f"accept={own['accept']}: must be a share in (0, 1]")
    if own["warmup_days"] < 0:
        raise ConfigError(f"warmup_days={own['warmup_days']}: must be a whole number >= 0")
    if own["seed"] < 0:
        raise ConfigError(f"seed={own['seed']}: must be a whole number >= 0")
    if own["n_jobs"] == 0 or own["n_jobs"] < -1:
        raise ConfigError(f"n_jobs={own['n_jobs']}: use -1 for every core, or a positive count")
    if not str(own["org_name"]).replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"org_name={own['org_name']}: letters, digits, '-' and '_' only")
    for arg in rest:
        if arg.startswith("-"):
            raise ConfigError(
                f"{arg}: not an option of this program (it takes key=value options, "
                "--config-dir DIR and --help)"
            )
        if "=" not in arg and not arg.startswith("~"):
            raise ConfigError(f"{arg}: not a key=value override")
        key = arg.split("=", 1)[0].lstrip("+~")
        root = key.split(".", 1)[0]
        if key in OWN_KEYS or root == "org":
            raise ConfigError(
                f"{arg}: set by this program; use {OWN_KEYS.get(key, OWN_KEYS['org'])}"
            )
        if key.startswith(("hydra.sweep", "hydra/")):
            raise ConfigError(
                f"{arg}: this program runs no Hydra sweep; choose its directory with "
                "hydra.run.dir= and its processes with n_jobs="
            )
        if SCENARIO_EDIT.match(key):
            raise ConfigError(
                f"{arg}: would change every scenario; define it as a file "
                "(scenario/<name>.yaml under --config-dir DIR) instead"
            )
    if len(expand_sweep(rest)) > 1:
        raise ConfigError(f"{' '.join(rest)}: one export and one setting at a time; no sweeps")
    team = {}
    for key in ex.TEAM_KEYS:
        if own[key] is not None:
            value = yaml.safe_load(str(own[key]))
            team[key] = value
    return team


def org_overrides(org: dict[str, Any]) -> list[str]:
    """``org.<key>=<value>`` overrides of an organisation's numbers."""
    return [f"org.{k}={v!r}" if isinstance(v, str) else f"org.{k}={v}" for k, v in org.items()]


def main(argv: list[str] | None = None) -> int:
    """Parse and check everything, then fit, compare and write."""
    return entry(sys.argv[1:] if argv is None else argv, __doc__, _main)


def _main(argv: list[str]) -> int:
    import sim
    from sim.limits import check_fits

    own, rest = split_args(config_dir_args(argv), OPTIONS)
    team_cli = _check_options(own, rest)
    export = ex.read_export(own["data"])
    team = ex.read_team(own["team"], team_cli)
    window_days = export.end_day - own["warmup_days"]
    if window_days < MIN_WINDOW_DAYS:
        raise ConfigError(
            f"warmup_days={own['warmup_days']}: the export spans {export.end_day} business "
            f"days, which leaves {window_days} measured; at least {MIN_WINDOW_DAYS} are "
            "needed (lower warmup_days= or export a longer period)"
        )
    direct = fit.direct_fit(export)
    named = [f"org.name={own['org_name']}"]
    org = {**team, **direct}
    run_settings = [f"days={export.end_day}", f"warmup_days={own['warmup_days']}"]
    base = sim.load_config([*named, *org_overrides(org), *run_settings, *rest], CONFIG_NAME)
    scenarios = _scenarios(own, rest)
    check_fits(base)
    out = check_writable(resolve_output_dir([*named, *rest], False, CONFIG_NAME))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"{out}: already exists and is not empty; a diagnosis is never written over "
            "another's files: choose another hydra.run.dir= (nothing was written)"
        )
    print(
        f"diagnosing {own['data']}: {len(export.frame)} leads over {export.end_day} business "
        f"days -> {out}",
        file=sys.stderr,
    )
    for line in export.skipped_lines():
        print(f"note: {line}", file=sys.stderr)
    step = "the fit"
    started = time.perf_counter()
    try:
        out.mkdir(parents=True, exist_ok=True)
        result = _diagnose(own, export, team, direct, base, out)
        step = "the tactic comparison"
        if own["compare"]:
            _compare(own, scenarios, result, rest, out)
        _record(own, argv, export, team, result, out, time.perf_counter() - started)
    except Exception as exc:  # after work started: one line, exit 1
        if debugging(argv):
            raise
        print(
            f"error: {step} failed: {describe_failure(exc)}; {out} is incomplete (no "
            "diagnose.json); run again into another hydra.run.dir=",
            file=sys.stderr,
        )
        return FAILED
    _print_summary(result, out, own["compare"])
    return 0


def _scenarios(own: dict[str, Any], rest: list[str]) -> list[str]:
    """The scenarios to compare, the baseline first; refused if unknown."""
    from sim.config import group_options

    known = group_options("scenario", rest, CONFIG_NAME)
    chosen = [s for s in own["scenarios"].split(",") if s] or sorted(known)
    for name in chosen:
        if name not in known:
            raise ConfigError(
                f"scenarios: no such scenario {name!r}; choose from {', '.join(sorted(known))}"
            )
    chosen = ["baseline", *[s for s in dict.fromkeys(chosen) if s != "baseline"]]
    if own["compare"] and len(chosen) < 2:
        raise ConfigError("scenarios=baseline: nothing to compare it with; name a tactic")
    return chosen


def _diagnose(
    own: dict[str, Any],
    export: ex.Export,
    team: dict[str, Any],
    direct: dict[str, float],
    base: SimConfig,
    out: Path,
) -> dict[str, Any]:
    """Summarise, fit directly, calibrate, check; write statistics, posterior and fit."""
    from sim.io import atomic_write

    window = fit.window_of(base)
    client = ex.statistics(export, window, seed=own["seed"])
    atomic_write(out / "statistics.csv", lambda p: client.to_csv(p, index=False))
    observed = dict(zip(client.statistic, client.value, strict=True))
    names = fit.distance_statistics(observed, export.missing)
    n_jobs = own["n_jobs"]
    if "deal_value_mean" in direct:
        mean = fit.corrected_deal_value(base, direct["deal_value_mean"], PILOT_SEEDS, n_jobs)
        direct = {**direct, "deal_value_mean": mean}
        base = build_config(base, deal_value_mean=mean)
    post = fit.calibrate(
        base,
        observed,
        names,
        particles=own["particles"],
        accept=own["accept"],
        seed=own["seed"],
        n_jobs=n_jobs,
        progress=Bar("calibration runs"),
        rounds=own["rounds"],
    )
    posterior = fit.posterior_table(post)
    atomic_write(out / "posterior.csv", lambda p: posterior.to_csv(p, index=False))
    runs = pd.concat([post.prior, post.simulated], axis=1)
    runs.insert(0, "run", range(len(runs)))
    runs.insert(1, "round", post.rounds)
    runs["distance"] = post.distance
    runs["eligible"] = post.eligible
    runs["accepted"] = runs.index.isin(post.accepted)
    atomic_write(out / "calibration_runs.csv", lambda p: runs.to_csv(p, index=False))
    pred = fit.predictive(
        base, post, own["check"], seed=own["seed"], n_jobs=n_jobs, progress=Bar("check runs")
    )
    table = fit.fit_table(client, post, pred, export.missing)
    table["match"] = fit.matches(table)
    atomic_write(out / "fit.csv", lambda p: table.to_csv(p, index=False))
    fitted = {k: v for k, v in dataclasses.asdict(base.org).items() if k != "name"}
    median = post.median()
    _write_conf(out, own["org_name"], fitted, median)
    return {
        "export": export,
        "direct": direct,
        "team": team,
        "base": build_config(base, **median),
        "post": post,
        "posterior": posterior,
        "fit": table,
        "statistics": names,
    }


def _write_conf(out: Path, name: str, org: dict[str, Any], behaviour: dict[str, float]) -> None:
    """The fitted organisation and behaviour as config files (``--config-dir out/conf``)."""
    head = f"# Fitted by python -m experiments.diagnose ({name}); see fit.csv and posterior.csv\n"
    for group, values in (("org", org), ("behaviour", behaviour)):
        path = out / "conf" / group / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        clean = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in values.items()}
        path.write_text(head + yaml.safe_dump(clean, sort_keys=False))


def _compare(
    own: dict[str, Any], scenarios: list[str], result: dict[str, Any], rest: list[str], out: Path
) -> None:
    """Compare the tactics on the fitted organisation; write the report into ``out``."""
    import sim
    from sim.batch import Backend, RunSpec, run_study
    from sim.compare import aggregate
    from sim.space import ExperimentSpace
    from sim.study import open_study, run_configs

    base: SimConfig = result["base"]
    post: fit.Posterior = result["post"]
    org = {k: v for k, v in dataclasses.asdict(base.org).items() if k != "name"}
    settings = [f"org.name={base.org.name}", *org_overrides(org)]
    settings += [f"days={base.days}", f"warmup_days={base.warmup_days}", *rest]
    median = post.median()
    configs = [
        build_config(sim.load_config([f"scenario={s}", *settings], CONFIG_NAME), **median)
        for s in scenarios
    ]
    seeds = range(1, 1 + own["replicates"])
    specs = [
        RunSpec(dataclasses.replace(c, seed=s), f"{c.scenario.name}_seed{s}")
        for c in configs
        for s in seeds
    ]
    if own["draws"]:
        space = ExperimentSpace()
        table = space.sample(own["draws"], seed=own["seed"], scenarios=configs)
        # a behavioural assumption set on the command line (behaviour.x=...) stays as set
        pinned = [a.split("=", 1)[0].lstrip("+") for a in rest]
        table = table.drop(columns=[c for c in table.columns if c in pinned])
        drawn = post.draw(own["draws"], own["seed"])
        for d in range(1, own["draws"] + 1):
            seed = seeds.stop + d - 1
            fitted = drawn.iloc[d - 1].to_dict()
            for c in configs:
                cfg = build_config(space.overrides(table.loc[d], c), **fitted)
                run_id = f"{c.scenario.name}_d{d}_seed{seed}"
                specs.append(RunSpec(dataclasses.replace(cfg, seed=seed), run_id, draw=d))
    study = out / "study"
    record = {
        "program": "python -m experiments.diagnose",
        "replicates": own["replicates"],
        "draws": own["draws"],
        "runs": run_configs(configs),
    }
    with open_study(study, record, resume=False, resume_hint="another hydra.run.dir="):
        print(
            f"comparing {len(scenarios)} scenarios on the fitted organisation: "
            f"{own['replicates']} replicates at the posterior median + {own['draws']} draws "
            f"= {len(specs)} runs",
            file=sys.stderr,
        )
        done = run_study(specs, study, backend=Backend(n_jobs=own["n_jobs"]))
    if done.failures:
        raise RuntimeError(f"{len(done.failures)} comparison run(s) failed: {done.failures[0][1]}")
    aggregate(study, out, preface=lambda rep: your_funnel(rep, result, own), facts=False)


def shown_fit(table: pd.DataFrame) -> pd.DataFrame:
    """fit.csv as people read it: each statistic, yours [95%], the model's [90%], fitted, match.

    The report's "Your funnel" table and notebook 02's. Shares as percentages, money without
    decimals, other values to three significant digits; "n/a" where the export has no value.
    """
    fmt = {"share": "{:.1%}", "currency": "{:,.0f}"}

    def cell(value: float, lo: float, hi: float, unit: str) -> str:
        if pd.isna(value):
            return "n/a"
        f = fmt.get(unit, "{:.3g}")
        return f"{f.format(value)} [{f.format(lo)}, {f.format(hi)}]"

    shown = pd.DataFrame(
        {
            "statistic": table["statistic"],
            "yours [95%]": [
                cell(r.client, r.client_lo, r.client_hi, r.unit) for r in table.itertuples()
            ],
            "model [90%]": [
                cell(r.model_median, r.model_lo, r.model_hi, r.unit) for r in table.itertuples()
            ],
            "fitted": table["fitted"],
            "match": table["match"].map({True: "yes", False: "NO"}).fillna("n/a"),
        }
    )
    return shown.set_index("statistic")


def your_funnel(rep: Any, result: dict[str, Any], own: dict[str, Any]) -> None:
    """The report's first section: the export, how well the model fits it, what it pins down."""
    export: ex.Export = result["export"]
    table: pd.DataFrame = result["fit"]
    post: fit.Posterior = result["post"]
    posterior: pd.DataFrame = result["posterior"]
    rep.heading("Your funnel: the model fitted to your CRM export")
    skipped = "; ".join(export.skipped_lines()) or "none"
    missing = ", ".join(export.missing) or "none"
    rep.para(
        f"The export ({own['data']}): {export.rows} rows, {len(export.frame)} leads used, "
        f"{export.end_day} business days from {export.start}; the first {own['warmup_days']} "
        f"days are left out of every statistic (the export holds no leads created before "
        f"it starts). Skipped rows: {skipped}. Missing optional columns: {missing}."
    )
    rep.table(shown_fit(table))
    bad = table.loc[table["match"].eq(False), "statistic"].tolist()
    rep.para(
        "'yours' is the export's value with its 95% interval; 'model' the fitted model's "
        f"central 90% over {own['check']} runs at parameter sets drawn from the "
        "fit; 'match' says whether the two intervals overlap. "
        + (
            f"The model does not reproduce: {', '.join(bad)}; read the tactic ranking below "
            "with that in mind."
            if bad
            else "The model reproduces every statistic the export shows."
        )
    )
    direct = ", ".join(f"{k} = {v:,.4g}" for k, v in result["direct"].items())
    team = ", ".join(f"{k} = {v}" for k, v in result["team"].items()) or "defaults"
    left = [k for k in fit.DIRECT if k not in result["direct"]]
    kept = (
        f" Not in the export, so left at the default organisation's: {', '.join(left)}."
        if left
        else ""
    )
    rep.para(f"Fitted directly from the export: {direct}. From the team file: {team}.{kept}")
    rep.heading("What your data pins down")
    rep.table(posterior.set_index("parameter").round(4))
    pinned = posterior.loc[posterior.identified == "yes", "parameter"].tolist()
    two = int(post.rounds.max()) > 1
    rounds = (
        f"{len(post.prior)} runs in two rounds: {int((post.rounds == 1).sum())} from the "
        "prior (the calibration bounds), then "
        f"{int((post.rounds == 2).sum())} from the prior narrowed to where the first round's "
        f"fit lies (with the {int(post.eligible[post.rounds == 1].sum())} first-round runs "
        "inside it)"
        if two
        else f"{len(post.prior)} runs from the prior (the calibration bounds)"
    )
    rep.para(
        f"Simulation-based calibration (sim.fit): {rounds}; the {len(post.accepted)} "
        f"nearest the export kept (effective sample {post.ess:.0f}), "
        + (
            "regression-adjusted"
            if post.adjusted
            else "not regression-adjusted (too few runs for it, so no second round either: "
            "more particles= sharpen the fit)"
        )
        + ". 'width_ratio' is the "
        "fitted 90% range over the prior's: below 0.5 the data pins the parameter down "
        f"({', '.join(p.removeprefix('behaviour.') for p in pinned) or 'none'}); near 1 it "
        "says little, and the comparison below carries that doubt: its draws take the "
        "behavioural parameters from this fit and every other assumption from its plausible "
        "range."
    )


def _record(
    own: dict[str, Any],
    argv: list[str],
    export: ex.Export,
    team: dict[str, Any],
    result: dict[str, Any],
    out: Path,
    wall: float,
) -> None:
    """diagnose.json, written last: what was fitted, how, from what."""
    import sim
    from sim.io import atomic_write, source_digest, versions

    post: fit.Posterior = result["post"]
    record = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "program": "python -m experiments.diagnose",
        "command": " ".join(["python -m experiments.diagnose", *argv]),
        "data": str(own["data"]),
        "rows": export.rows,
        "leads": len(export.frame),
        "skipped": export.skipped,
        "missing_columns": list(export.missing),
        "start": export.start,
        "end_day": export.end_day,
        "warmup_days": own["warmup_days"],
        "team": team,
        "direct": result["direct"],
        "statistics_fitted": result["statistics"],
        "particles": own["particles"],
        "rounds": int(post.rounds.max()),
        "calibration_runs": len(post.prior),
        "accepted": len(post.accepted),
        "adjusted": post.adjusted,
        "effective_sample": round(post.ess, 1),
        "check_runs": own["check"],
        "seed": own["seed"],
        "compare": own["compare"],
        "version": sim.__version__,
        "source_digest": source_digest(),
        "wall_seconds": round(wall, 1),
        "versions": versions(),
    }
    atomic_write(out / "diagnose.json", lambda p: p.write_text(json.dumps(record, indent=2) + "\n"))


def _print_summary(result: dict[str, Any], out: Path, compared: bool) -> None:
    table = result["fit"]
    posterior = result["posterior"]
    show = table[["statistic", "client", "model_median", "model_lo", "model_hi", "fitted"]]
    print("\nYour funnel against the fitted model (model: central 90% of the check runs)")
    print(show.round(4).to_string(index=False))
    print("\nWhat the data pins down (width_ratio: fitted 90% range / prior's)")
    print(posterior.round(4).to_string(index=False))
    written = "fit.csv, posterior.csv, statistics.csv, calibration_runs.csv, conf/"
    if compared:
        written += ", report.html (and report.md, effects.csv, uncertainty.csv, figures/)"
    print(f"\nwritten into {out}: {written}")


if __name__ == "__main__":
    sys.exit(main())
