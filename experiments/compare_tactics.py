"""The main job: every tactic against the baseline, with replicates, intervals, figures, report.

Usage::

    python -m experiments.compare_tactics            # default org, every scenario, 20 seeds
    python -m experiments.compare_tactics org=small replicates=30 seed_base=100
    python -m experiments.compare_tactics scenarios=baseline,liaison,full_alignment days=750
    python -m experiments.compare_tactics hydra/launcher=basic       # serial
    python -m experiments.compare_tactics hydra/launcher=ray hydra.launcher.ray.init.address=H:P
    python -m experiments.compare_tactics from=multirun/2026-11-23/10-00-00-000000 out=cmp
    python -m experiments.compare_tactics resume=comparisons/2026-11-23/10-00-00-000000_default
    python -m experiments.compare_tactics decomposition=decompositions/2026-11-23/09-00-00_default

Every scenario runs with the same ``replicates`` seeds (``seed_base``, ``seed_base + 1``, ...),
so runs pair up by seed and each tactic's effect is computed on the paired differences. The
runs are a Hydra sweep of ``python -m sim`` jobs (``conf/compare_tactics.yaml``), launched by
Hydra's launcher plugin (joblib on all local cores by default); a callback shows progress and,
when the sweep ends, aggregates it (``sim.compare.aggregate``) into runs.csv, effects.csv,
figures/ and report.md / report.html inside the sweep directory. Any other ``key=value`` is a
``python -m sim`` override applied to every run (``org=...``, ``behaviour.x=...``, ...).

The report embeds an effect decomposition (``python -m experiments.decompose``) without
running one: the newest of the organisation's under ``decompositions/`` (by the time each
records), or the one named with ``decomposition=DIR``; it says when that one was made with
other settings or another model version, and how to make one when there is none.

An interrupted comparison resumes with ``resume=<its directory>`` and the same settings: a
run whose ``run.json`` records the same config hash is reused, the rest are run.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from experiments.common import Bar, entry, split_args
from sim.config import (
    SCENARIO_EDIT,
    config_dir_args,
    expand_sweep,
    resolve_output_dir,
    validate_overrides,
)
from sim.exits import FAILED, INTERRUPTED
from sim.io import RECORD
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
}


class Progress:
    """A progress bar with an ETA that counts finished runs (their run.json) on disk.

    Counting files works with any launcher (local processes, a Ray cluster on a shared disk).
    """

    def __init__(self, sweep_dir: Path, total: int) -> None:
        self.sweep_dir, self.total = sweep_dir, max(total, 1)
        self.bar = Bar("runs")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def done(self) -> int:
        """Runs finished so far."""
        return sum(1 for _ in self.sweep_dir.glob(f"*/{RECORD}"))

    def _loop(self) -> None:
        shown = -1
        while not self._stop.wait(0.5):
            done = self.done()
            if done != shown:
                self.bar(done, self.total)
                shown = done

    def start(self) -> None:
        """Start showing progress."""
        self.bar(0, self.total)
        self._thread.start()

    def stop(self) -> None:
        """Stop, showing the final count."""
        self._stop.set()
        self._thread.join(timeout=2)
        self.bar(self.done(), self.total, final=True)


# The progress bar lives here, not on the callback: Hydra pickles callbacks to send them to
# the launcher's workers, and a running thread cannot be pickled.
_PROGRESS: dict[str, Progress] = {}
_FAILURES: list[str] = []
# The decomposition= option, for the callback (which runs in this process, from this module)
_DECOMPOSITION: list[Path] = []


class ComparisonCallback(Callback):
    """Shows progress during the sweep and aggregates it when it ends (in the main process)."""

    def __init__(self, total_jobs: int = 0, baseline: str = "baseline") -> None:
        self.total_jobs = total_jobs
        self.baseline = baseline

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Start the progress bar."""
        sweep_dir = str(config.hydra.sweep.dir)
        _PROGRESS[sweep_dir] = Progress(Path(sweep_dir), self.total_jobs)
        _PROGRESS[sweep_dir].start()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Aggregate the finished sweep and print the ranked table."""
        sweep_dir = str(config.hydra.sweep.dir)
        progress = _PROGRESS.pop(sweep_dir, None)
        if progress is not None:
            progress.stop()
        from sim.cli import sweep_failures

        if sweep_failures(Path(sweep_dir), self.total_jobs):
            return  # main() reports them; a comparison with runs missing would mislead
        try:
            report(Path(sweep_dir), None, self.baseline, *_DECOMPOSITION[-1:])
        except Exception as exc:  # Hydra would only warn: record it so main() exits non-zero
            _FAILURES.append(f"aggregating {sweep_dir} failed: {type(exc).__name__}: {exc}")
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise


def report(root: Path, out: Path | None, baseline: str, decomposition: Path | None = None) -> None:
    """Aggregate the runs under ``root`` and print the ranked table and where the report is."""
    from sim.compare import aggregate

    started = time.perf_counter()
    result = aggregate(root, out, baseline=baseline, decomposition=decomposition)
    runs = result.runs
    first = runs.iloc[0]
    n = int(result.table["pairs"].min()) if len(result.table) else 0
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
    out_dir = out or root
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
        for key in ("resume", "replicates", "seed_base", "scenarios"):
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
    """Parse the command line, validate every run, then launch the sweep through Hydra."""
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


def _fail_all() -> int:
    for failure in _FAILURES:
        print(f"error: {failure}", file=sys.stderr)
    return FAILED


def _compare(own: dict[str, Any], rest: list[str]) -> int:
    """Validate, lock the study directory, run the sweep and aggregate it."""
    from sim.cli import run_hydra, sweep_failures

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
    scenario_sweep = f"scenario={','.join(scenarios)}"
    seed_sweep = f"seed=range({seed_base},{seed_base + replicates})"
    configs: list[SimConfig] = []  # one per scenario: seeds are checked once (validate_overrides)
    validate_overrides(
        [scenario_sweep, seed_sweep, *sim_overrides],
        multirun=True,
        config_name=CONFIG_NAME,
        configs=configs,
    )
    resume = own["resume"]
    if resume:
        if not Path(resume).is_dir():
            raise ConfigError(f"resume={resume}: no such comparison directory")
        sweep_dir = Path(resume)
    else:
        sweep_dir = resolve_output_dir([scenario_sweep, *sim_overrides], True, CONFIG_NAME)
    check_writable(sweep_dir)
    total = len(scenarios) * replicates
    settings = {
        "program": "python -m experiments.compare_tactics",
        "baseline": baseline,
        "seed_base": seed_base,
        "replicates": replicates,
        "runs": run_configs(configs),  # the study's identity
    }
    with open_study(sweep_dir, settings, resume=bool(resume), resume_hint=f"resume={sweep_dir}"):
        print(
            f"comparing {len(scenarios)} scenarios x {replicates} replicates = {total} runs "
            f"-> {sweep_dir}",
            file=sys.stderr,
        )
        _FAILURES.clear()
        _DECOMPOSITION[:] = [Path(own["decomposition"])] if own["decomposition"] else []
        saved_quiet = os.environ.get("FUNNEL_SIM_QUIET")
        os.environ["FUNNEL_SIM_QUIET"] = "1"  # one progress bar instead of a line per run
        try:
            run_hydra(
                [
                    "--config-name",
                    CONFIG_NAME,
                    "-m",
                    scenario_sweep,
                    seed_sweep,
                    *(a for a in rest if not a.startswith("hydra.sweep.dir=")),  # once, below
                    f"hydra.sweep.dir={sweep_dir}",
                    f"hydra.callbacks.comparison.total_jobs={total}",
                    f"hydra.callbacks.comparison.baseline={baseline}",
                    "~hydra.callbacks.kpi_table",
                ]
            )
        except KeyboardInterrupt:
            again = " ".join(
                ["python -m experiments.compare_tactics", *_resume_args(own, rest, sweep_dir)]
            )
            print(f"\ninterrupted; finished runs are kept: resume with {again}", file=sys.stderr)
            return INTERRUPTED
        finally:
            if saved_quiet is None:
                os.environ.pop("FUNNEL_SIM_QUIET", None)
            else:
                os.environ["FUNNEL_SIM_QUIET"] = saved_quiet
        failed = sweep_failures(sweep_dir, total)
    if failed:
        _FAILURES.insert(
            0, f"{failed}; no report written; resume with resume={sweep_dir} to retry them"
        )
    return _fail_all() if _FAILURES else 0


def _resume_args(own: dict[str, Any], rest: list[str], sweep_dir: Path) -> list[str]:
    """The arguments that resume this comparison: ``resume=`` and the same settings."""
    same = [f"{k}={v}" for k, v in own.items() if k != "resume" and v != OPTIONS[k]]
    return [f"resume={sweep_dir}", *same, *(a for a in rest if not a.startswith("hydra.sweep"))]


if __name__ == "__main__":
    # Run main() of the module Hydra's callback is built from (experiments.compare_tactics),
    # not of __main__: the two are different module objects, and the callback records its
    # failures in its own module's _FAILURES.
    from experiments.compare_tactics import main as module_main

    sys.exit(module_main())
