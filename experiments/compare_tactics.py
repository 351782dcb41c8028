"""The main job: every tactic against the baseline, with replicates, intervals, figures, report.

Usage::

    python -m experiments.compare_tactics            # default org, every scenario, 100 draws
    python -m experiments.compare_tactics draws=0    # the default assumptions only (20 seeds)
    python -m experiments.compare_tactics draws=150 seeds_per_draw=2 draw_seed=1
    python -m experiments.compare_tactics org=small replicates=30 seed_base=100
    python -m experiments.compare_tactics scenarios=baseline,liaison,full_alignment days=750
    python -m experiments.compare_tactics hydra/launcher=basic       # serial
    python -m experiments.compare_tactics hydra.launcher.n_jobs=4    # four local workers
    python -m experiments.compare_tactics hydra/launcher=ray hydra.launcher.ray.init.address=H:P
    python -m experiments.compare_tactics keep_runs=true chunk_size=5
    python -m experiments.compare_tactics from=multirun/2026-11-23/10-00-00-000000 out=cmp
    python -m experiments.compare_tactics resume=comparisons/2026-11-23/10-00-00-000000_default
    python -m experiments.compare_tactics decomposition=decompositions/2026-11-23/09-00-00_default

Two answers. Under what we do not know (``draws=``, default 100; ``draws=0`` leaves it out):
every scenario on each of ``draws`` draws of the uncertain assumptions (``sim.space``), each
draw on its own ``seeds_per_draw`` seeds (default 1) shared by all its scenarios. Every tactic
parameter is drawn from its plausible range by a seeded design (``draw_seed=``, default 0;
``method=lhs``, the default, or ``sobol``); the behavioural parameters are taken whole from
the draws screened against the published facts (``behaviour_draws=screened``, the default:
``sim/data/screened_behaviour.csv``, made by ``python -m experiments.screen``), or drawn from
their plausible ranges as well (``behaviour_draws=prior``). Effects are paired within each
draw and seed and summarised by ``sim.uncertainty`` (uncertainty.csv, drivers.csv,
discovery.csv, consistency.csv, uncertainty_consistent.csv). Given the default assumptions:
every scenario runs with the same ``replicates`` seeds (``seed_base``, ``seed_base + 1``, ...),
so runs pair up by seed and each tactic's effect is computed on the paired differences. The
runs are checked up front (every one, composed from ``conf/compare_tactics.yaml`` as
``python -m sim`` would), then go to the study runner (``sim.batch``): warm workers that
import the model once and run chunks of runs, on every local core by default. The launcher
settings choose the workers as they did when each run was a Hydra job: ``hydra/launcher=basic``
runs in this process, ``hydra.launcher.n_jobs=N`` on N local workers, ``hydra/launcher=ray``
on a Ray cluster (``hydra.launcher.ray.init.*`` are ``ray.init`` arguments). Any other
``key=value`` is a ``python -m sim`` override applied to every run (``org=...``,
``behaviour.x=...``, ...).

The study directory (``hydra.sweep.dir=``, by default ``comparisons/<date>/<time>_<org>``)
holds the tidy table (``runs.parquet`` and ``runs.csv``: one row per run, every input and
KPI), the daily series of every run as a dataset partitioned by scenario (``timeseries/``;
``journeys/`` with ``record_journeys=true``), and the comparison: effects.csv, figures/,
report.md and report.html. ``keep_runs=true`` also writes each run's own folder, as
``python -m sim`` does (for ``sim.reproduce``); ``chunk_size=N`` sends N runs per chunk
(default: chunks that shrink as the study ends).

The report embeds an effect decomposition (``python -m experiments.decompose``) without
running one: the newest of the organisation's under ``decompositions/`` (by the time each
records), or the one named with ``decomposition=DIR``; it says when that one was made with
other settings or another model version, and how to make one when there is none.

A run is done when its row is committed. An interrupted comparison resumes with
``resume=<its directory>`` and the same settings: committed runs are kept, the rest are run.
A run that fails is recorded (``failed.txt``), the others go on, and the command exits 1
without a report; resuming retries the failed runs.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from experiments.common import entry, split_args
from sim.config import (
    SCENARIO_EDIT,
    choice_override,
    config_dir_args,
    expand_sweep,
    hydra_settings,
    resolve_output_dir,
    validate_overrides,
)
from sim.exits import FAILED, INTERRUPTED, debugging, describe_os_error
from sim.params import ConfigError, SimConfig
from sim.study import check_writable, open_study, run_configs

CONFIG_NAME = "compare_tactics"
DEFAULT_REPLICATES = 20
OPTIONS = {
    "replicates": DEFAULT_REPLICATES,
    "seed_base": 1,
    "scenarios": "",
    "baseline": "baseline",
    "from": None,
    "out": None,
    "resume": None,
    "decomposition": None,
    "keep_runs": False,
    "chunk_size": 0,
    "draws": 100,
    "seeds_per_draw": 1,
    "draw_seed": 0,
    "method": "lhs",
    "behaviour_draws": "screened",
}
#: Options that say how the runs are made, not what they are: no part of a study's identity.
HOW = ("keep_runs", "chunk_size")
#: Options of the parameter draws (``sim.space``, ``sim.uncertainty``).
DRAWN = ("draws", "seeds_per_draw", "draw_seed", "method", "behaviour_draws")

BASIC = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
JOBLIB = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
RAY = "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"


def report(root: Path, out: Path | None, baseline: str, decomposition: Path | None = None) -> None:
    """Aggregate the runs under ``root`` and print the ranked table and where the report is."""
    from sim.compare import aggregate

    started = time.perf_counter()
    result = aggregate(root, out, baseline=baseline, decomposition=decomposition)
    runs = result.runs
    first = runs.iloc[0]
    n = int(result.table["pairs"].min()) if len(result.table) else 0
    out_dir = out or root
    table = result.uncertainty
    if table is not None:
        from sim.uncertainty import ranked_uncertainty

        print(
            f"\nTactic effects against '{baseline}' on org '{first['org']}' under what we do "
            f"not know: relative change over {int(table.n_draws.max())} draws of the "
            "assumptions' plausible ranges"
            + (
                " (the behavioural ones from draws whose baseline passed the facts: "
                "sim/data/screened_behaviour.csv)"
                if result.screened
                else ""
            )
            + ", each with its own market; median, the ranges "
            "holding 80% and 95% of the draws, P(the tactic raises it), P(best single tactic)"
        )
        print(ranked_uncertainty(table, n_kpis=1).to_string())
        fits, kept = result.consistency, result.consistent
        if fits is not None and kept is not None:
            from sim.uncertainty import consistency_in_words

            words = f"{consistency_in_words(fits)}. Over those draws only:"
            print("\n" + textwrap.fill(words, 100))
            if len(kept):
                print(ranked_uncertainty(kept, n_kpis=1).to_string())
        print("\nGiven the default assumptions only (market noise only):")
    print(
        f"\nTactic effects against '{baseline}' on org '{first['org']}': relative change "
        f"[95% interval], {n} seed-paired replicates, {int(first.days - first.warmup_days)} "
        f"business days after warm-up; ranked by revenue uplift; (ns) = interval includes 0"
    )
    print(result.table.to_string())
    if result.incomplete:
        listed = ", ".join(str(p.relative_to(root)) for p in result.incomplete)
        print(f"\nskipped {len(result.incomplete)} incomplete run(s) (no run.json): {listed}")
    few = result.table.index[result.table["pairs"] < 2].tolist()
    if few:
        print(f"\nno interval for {', '.join(few)}: fewer than 2 seed pairs", file=sys.stderr)
    for run_dir, reason in result.skipped:
        print(f"skipped damaged run {run_dir.relative_to(root)}: {reason}", file=sys.stderr)
    print(
        f"\nreport: {out_dir / 'report.html'} (and report.md, effects.csv, runs.csv, "
        f"figures/)  [aggregated in {time.perf_counter() - started:.1f}s]"
    )


def all_scenarios(overrides: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Every scenario in conf/scenario (and any --config-dir's scenario/), baseline first."""
    from sim.config import group_options

    names = group_options("scenario", overrides, CONFIG_NAME)
    return sorted(names, key=lambda s: s != "baseline")


def _check_options(own: dict[str, Any], rest: list[str]) -> None:
    """Refuse options that would do nothing, or silently replace the sweep built here."""
    overrides = [a for a in rest if not a.startswith("-")]
    if own["decomposition"] is not None:
        from sim.decomposition import load

        try:
            load(own["decomposition"])
        except ValueError as exc:
            raise ConfigError(
                f"decomposition={own['decomposition']}: {exc}; name a directory made by "
                "python -m experiments.decompose"
            ) from None
    if own["from"] is not None:
        ignored = [a for a in overrides if not a.startswith("hydra.searchpath=")]
        for key in ("resume", "replicates", "seed_base", "scenarios", *DRAWN, *HOW):
            if own[key] not in (None, OPTIONS[key]):
                ignored.insert(0, f"{key}={own[key]}")
        if ignored:
            raise ConfigError(
                f"{ignored[0]}: has no effect with from= (which only aggregates runs that "
                "exist); drop it, or leave out from= to run a new comparison"
            )
        return
    if own["out"] is not None:
        raise ConfigError(
            f"out={own['out']}: only used with from=; a new comparison writes into its own "
            "directory (choose it with hydra.sweep.dir=)"
        )
    if own["replicates"] < 2:
        raise ConfigError(f"replicates={own['replicates']}: must be a whole number >= 2")
    if own["seed_base"] < 0:
        raise ConfigError(f"seed_base={own['seed_base']}: must be a whole number >= 0")
    if own["draws"] < 0:
        raise ConfigError(f"draws={own['draws']}: must be a whole number >= 0 (0: no draws)")
    if own["seeds_per_draw"] < 1:
        raise ConfigError(f"seeds_per_draw={own['seeds_per_draw']}: must be a whole number >= 1")
    if own["method"] not in ("lhs", "sobol"):
        raise ConfigError(f"method={own['method']}: must be lhs or sobol")
    from sim.space import check_behaviour_draws

    check_behaviour_draws(own["behaviour_draws"])
    if own["chunk_size"] < 0:
        raise ConfigError(
            f"chunk_size={own['chunk_size']}: must be a whole number of runs >= 1 (0: chosen "
            "for the study)"
        )
    for arg in overrides:
        key = arg.split("=", 1)[0].lstrip("+~")
        if key in ("seed", "scenario", "hydra.sweep.subdir"):
            hint = {"seed": "seed_base= and replicates=", "scenario": "scenarios="}.get(
                key, "the default"
            )
            raise ConfigError(f"{arg}: set by this program; use {hint} instead")
        if SCENARIO_EDIT.match(arg.split("=", 1)[0]):
            raise ConfigError(
                f"{arg}: would change every scenario, the baseline too; define the scenario "
                "you want as a file (scenario/<name>.yaml under --config-dir DIR) instead"
            )
    if own["resume"] and any(a.startswith("hydra.sweep.dir=") for a in overrides):
        raise ConfigError("resume= and hydra.sweep.dir=: give one of them, not both")
    if len(expand_sweep(overrides)) > 1:
        raise ConfigError(
            f"{' '.join(overrides)}: a comparison runs one organisation and one setting at a "
            "time; sweep syntax (a,b or range()) belongs in python -m sim -m"
        )


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, validate every run, then run the study and compare."""
    from sim.cli import launcher_fixes

    return entry(launcher_fixes(sys.argv[1:] if argv is None else argv), __doc__, _main)


def _main(argv: list[str]) -> int:
    own, rest = split_args(config_dir_args(argv), OPTIONS)
    from sim.cli import _split_args, run_hydra

    if _split_args(rest)[2]:  # --cfg, --info, ...: Hydra answers, nothing runs
        run_hydra(["--config-name", CONFIG_NAME, *rest])
        return 0
    _check_options(own, rest)
    if own["from"] is None:
        return _compare(own, rest)
    if not Path(own["from"]).is_dir():
        raise ConfigError(f"from={own['from']}: no such directory")
    try:
        report(
            Path(own["from"]),
            Path(own["out"]) if own["out"] else None,
            own["baseline"],
            Path(own["decomposition"]) if own["decomposition"] else None,
        )
    except (ValueError, FileNotFoundError) as exc:  # the runs cannot be compared
        print(f"error: aggregating {own['from']} failed: {exc}", file=sys.stderr)
        return FAILED
    return 0


def backend_of(overrides: list[str]) -> Any:
    """The study runner's workers, from the Hydra launcher these overrides choose.

    The launcher's settings keep their meaning: ``basic`` runs in this process, ``joblib``
    on ``n_jobs`` local workers, ``ray`` on the cluster ``ray.init`` joins (its ``remote``
    options apply to each chunk's task).

    Raises:
        ConfigError: a launcher the study runner does not replace (submitit, ...).
    """
    from sim.batch import Backend

    launcher = hydra_settings(overrides, CONFIG_NAME)["launcher"]
    target = str(launcher.get("_target_", ""))
    _refuse_unused_launcher_settings(launcher, target, overrides)
    if target == BASIC:
        return Backend(n_jobs=1)
    if target == JOBLIB:
        n_jobs = int(launcher.get("n_jobs", -1))
        if n_jobs == 0:
            raise ConfigError("hydra.launcher.n_jobs=0: use -1 for every core, or a count >= 1")
        return Backend(n_jobs=n_jobs)
    if target == RAY:
        ray = launcher.get("ray") or {}
        return Backend(
            kind="ray", ray_init=ray.get("init") or {}, ray_remote=ray.get("remote") or {}
        )
    raise ConfigError(
        f"hydra.launcher: {target.rsplit('.', 1)[-1] or 'this launcher'} is not one a comparison "
        "runs on; use hydra/launcher=basic, joblib or ray (or run the sweep with python -m sim "
        "-m and aggregate it with from=)"
    )


#: The launcher settings the study runner uses, by launcher (dotted prefixes).
USED_LAUNCHER_SETTINGS = {BASIC: (), JOBLIB: ("n_jobs",), RAY: ("ray.init", "ray.remote")}


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(node, dict):
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _refuse_unused_launcher_settings(launcher: dict, target: str, overrides: list[str]) -> None:
    """Refuse a launcher setting the study runner would ignore (one line, naming it).

    The comparison does not launch Hydra jobs: its runs go to the study runner, which takes
    only ``n_jobs`` from the joblib launcher and ``ray.init``/``ray.remote`` from the Ray
    launcher. Hydra itself refuses a key its launcher does not have; a key it has (joblib's
    ``backend``, ``batch_size``, ...) or one added with ``+`` would otherwise do nothing.
    Settings are compared with the launcher's own (those of the config files, without this
    command line's ``hydra.launcher.*`` overrides).
    """
    if target not in USED_LAUNCHER_SETTINGS:
        return  # refused by the caller, naming the launcher
    mine = [o for o in overrides if o.lstrip("+~").startswith("hydra.launcher.")]
    if not mine:
        return
    others = [o for o in overrides if o not in mine]
    defaults = _flat(hydra_settings(others, CONFIG_NAME)["launcher"])
    used = USED_LAUNCHER_SETTINGS[target]
    for key, value in _flat(launcher).items():
        if key in used or key.startswith(tuple(f"{u}." for u in used)):
            continue
        if key not in defaults or defaults[key] != value:
            name = target.rsplit(".", 1)[-1]
            allowed = ", ".join(f"hydra.launcher.{u}" for u in used) or "none"
            raise ConfigError(
                f"hydra.launcher.{key}={value}: the comparison's study runner (sim.batch) does "
                f"not use this setting of the {name}; the settings it uses: {allowed}"
            )


def run_specs(configs: list[SimConfig], seeds: range) -> list[Any]:
    """Every run of the comparison: each scenario's config with each seed, id'd by both."""
    from sim.batch import RunSpec

    return [
        RunSpec(dataclasses.replace(cfg, seed=seed), f"{cfg.scenario.name}_seed{seed}")
        for cfg in configs
        for seed in seeds
    ]


def drawn_specs(configs: list[SimConfig], own: dict[str, Any], first_seed: int) -> list[Any]:
    """The runs of the parameter draws: every scenario on each draw, with the draw's seeds.

    Draw ``d`` (1, 2, ...) sets every uncertain assumption (``sim.space``) to the ``d``-th
    point of a seeded space-filling design over the plausible ranges, for every scenario (a
    tactic's own assumptions where the tactic is on), except the behavioural parameters the
    command line set, which stay as set; all scenarios of a draw share its seeds
    (``seeds_per_draw`` of them, after the default-assumption replicates' and after
    ``draw_seed`` x ``draws`` x ``seeds_per_draw`` more, so that another design also meets
    other markets), so their effects pair up within the draw.
    """
    from sim.batch import RunSpec
    from sim.space import ExperimentSpace

    draws, per = own["draws"], own["seeds_per_draw"]
    if draws == 0:
        return []
    from sim.params import BehaviourParams

    space = ExperimentSpace()
    table = space.sample(draws, seed=own["draw_seed"], method=own["method"], scenarios=configs)
    if own["behaviour_draws"] == "screened":
        from sim.space import load_screened, with_screened

        table = with_screened(table, load_screened(), own["draw_seed"])
    # A behavioural parameter set on the command line (behaviour.x=...) is pinned: not drawn.
    defaults, mine = BehaviourParams(), configs[0].behaviour
    pinned = [
        c
        for c in table.columns
        if c.startswith("behaviour.")
        and getattr(mine, c.split(".", 1)[1]) != getattr(defaults, c.split(".", 1)[1])
    ]
    table = table.drop(columns=pinned)
    specs = []
    # Another design (draw_seed) also meets other markets: its seeds follow the first design's.
    first_seed += own["draw_seed"] * draws * per
    for d in range(1, draws + 1):
        row = table.loc[d]
        seeds = range(first_seed + (d - 1) * per, first_seed + d * per)
        for cfg in configs:
            drawn = space.overrides(row, cfg)
            for seed in seeds:
                run = dataclasses.replace(drawn, seed=seed)
                specs.append(RunSpec(run, f"{cfg.scenario.name}_d{d}_seed{seed}", draw=d))
    return specs


def _compare(own: dict[str, Any], rest: list[str]) -> int:
    """Validate, lock the study directory, run the study and aggregate it."""
    from sim.batch import run_study

    replicates, seed_base, baseline = own["replicates"], own["seed_base"], own["baseline"]
    sim_overrides = [a for a in rest if not a.startswith("-")]
    known = all_scenarios(sim_overrides)
    scenarios = list(dict.fromkeys(own["scenarios"].split(","))) if own["scenarios"] else known
    unknown = [s for s in scenarios if s not in known]
    if unknown:
        raise ConfigError(
            f"scenarios: no such scenario {unknown[0]!r}; choose from {', '.join(known)}"
        )
    if baseline not in known:
        raise ConfigError(f"baseline={baseline}: no such scenario; choose from {', '.join(known)}")
    if baseline not in scenarios:
        scenarios = [baseline, *scenarios]
    if scenarios == [baseline]:
        raise ConfigError(
            f"scenarios={own['scenarios'] or baseline}: only the baseline, nothing to compare "
            "it with; name at least one other scenario"
        )
    scenario_sweep = choice_override("scenario", scenarios)
    seeds = range(seed_base, seed_base + replicates)
    seed_sweep = f"seed=range({seeds.start},{seeds.stop})"
    configs: list[SimConfig] = []  # one per scenario: seeds are checked once (validate_overrides)
    validate_overrides(
        [scenario_sweep, seed_sweep, *sim_overrides],
        multirun=True,
        config_name=CONFIG_NAME,
        configs=configs,
    )
    backend = backend_of([scenario_sweep, *sim_overrides])
    resume = own["resume"]
    if resume:
        if not Path(resume).is_dir():
            raise ConfigError(f"resume={resume}: no such comparison directory")
        sweep_dir = Path(resume)
    else:
        sweep_dir = resolve_output_dir([scenario_sweep, *sim_overrides], True, CONFIG_NAME)
    check_writable(sweep_dir)
    specs = run_specs(configs, seeds)
    specs += drawn_specs(configs, own, seeds.stop)
    settings = {
        "program": "python -m experiments.compare_tactics",
        "baseline": baseline,
        "seed_base": seed_base,
        "replicates": replicates,
        **{key: own[key] for key in DRAWN},
        "runs": run_configs(configs),  # the study's identity
    }
    again = " ".join(["python -m experiments.compare_tactics", *_resume_args(own, rest, sweep_dir)])
    with open_study(sweep_dir, settings, resume=bool(resume), resume_hint=f"resume={sweep_dir}"):
        print(
            f"comparing {len(scenarios)} scenarios x ({replicates} replicates at the default "
            f"assumptions + {own['draws']} draws of the assumptions x {own['seeds_per_draw']} "
            f"seed(s)) = {len(specs)} runs -> {sweep_dir}",
            file=sys.stderr,
        )
        try:
            done = run_study(
                specs,
                sweep_dir,
                backend=backend,
                chunk_size=own["chunk_size"] or None,
                keep_runs=own["keep_runs"],
            )
        except KeyboardInterrupt:
            print(f"\ninterrupted; committed runs are kept: resume with {again}", file=sys.stderr)
            return INTERRUPTED
        except OSError as exc:
            print(f"error: {describe_os_error(exc)}; then resume with {again}", file=sys.stderr)
            return FAILED
    if done.failures:
        first = done.failures[0][1]
        print(
            f"error: {len(done.failures)} of {done.total} run(s) failed; first: {first} "
            f"(all in {sweep_dir / 'failed.txt'}); no report written; resume with "
            f"resume={sweep_dir} to retry them (HYDRA_FULL_ERROR=1 shows a traceback)",
            file=sys.stderr,
        )
        return FAILED
    try:
        report(
            sweep_dir, None, baseline, Path(own["decomposition"]) if own["decomposition"] else None
        )
    except Exception as exc:  # the runs are committed: only the comparison failed
        if debugging(rest):
            raise
        print(
            f"error: aggregating {sweep_dir} failed: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return FAILED
    return 0


def _resume_args(own: dict[str, Any], rest: list[str], sweep_dir: Path) -> list[str]:
    """The arguments that resume this comparison: ``resume=`` and the same settings."""
    same = [
        f"{k}={str(v).lower() if isinstance(v, bool) else v}"
        for k, v in own.items()
        if k != "resume" and v != OPTIONS[k]
    ]
    return [f"resume={sweep_dir}", *same, *(a for a in rest if not a.startswith("hydra.sweep"))]


if __name__ == "__main__":
    sys.exit(main())
