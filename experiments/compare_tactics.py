"""The main job: every tactic against the baseline, with replicates, intervals, figures, report.

Usage::

    python -m experiments.compare_tactics            # default org, every scenario, 20 seeds
    python -m experiments.compare_tactics org=small replicates=30 seed_base=100
    python -m experiments.compare_tactics scenarios=baseline,liaison,full_alignment days=750
    python -m experiments.compare_tactics hydra/launcher=basic       # serial
    python -m experiments.compare_tactics hydra/launcher=ray hydra.launcher.ray.init.address=H:P
    python -m experiments.compare_tactics from=multirun/2026-11-23/10-00-00-000000 out=cmp
    python -m experiments.compare_tactics resume=comparisons/2026-11-23/10-00-00-000000_default

Every scenario runs with the same ``replicates`` seeds (``seed_base``, ``seed_base + 1``, ...),
so runs pair up by seed and each tactic's effect is computed on the paired differences. The
runs are a Hydra sweep of ``python -m sim`` jobs (``conf/compare_tactics.yaml``), launched by
Hydra's launcher plugin (joblib on all local cores by default); a callback shows progress and,
when the sweep ends, aggregates it (``sim.compare.aggregate``) into runs.csv, effects.csv,
figures/ and report.md / report.html inside the sweep directory. Any other ``key=value`` is a
``python -m sim`` override applied to every run (``org=...``, ``behaviour.x=...``, ...).

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

from experiments.common import Bar, split_args
from sim.config import CONF_DIR, validate_overrides
from sim.io import RECORD
from sim.params import ConfigError

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
        try:
            report(Path(sweep_dir), None, self.baseline)
        except Exception as exc:  # Hydra would only warn: record it so main() exits non-zero
            _FAILURES.append(f"aggregating {sweep_dir} failed: {type(exc).__name__}: {exc}")
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise


def report(root: Path, out: Path | None, baseline: str) -> None:
    """Aggregate the runs under ``root`` and print the ranked table and where the report is."""
    from sim.compare import aggregate

    started = time.perf_counter()
    result = aggregate(root, out, baseline=baseline)
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
    out_dir = out or root
    print(
        f"\nreport: {out_dir / 'report.html'} (and report.md, effects.csv, runs.csv, "
        f"figures/)  [aggregated in {time.perf_counter() - started:.1f}s]"
    )


def all_scenarios() -> list[str]:
    """Every scenario in conf/scenario, baseline first."""
    names = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))
    return sorted(names, key=lambda s: s != "baseline")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, validate every run, then launch the sweep through Hydra."""
    from sim.cli import _split_args, launcher_fixes

    argv = launcher_fixes(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    try:
        own, rest = split_args(argv, OPTIONS)
        if _split_args(rest)[2]:  # --cfg, --info, ...: Hydra answers, nothing runs
            sys.argv = [sys.argv[0], "--config-name", CONFIG_NAME, *rest]
            from sim.cli import hydra_main

            hydra_main()
            return 0
        baseline = own["baseline"]
        if own["from"] is not None:
            report(Path(own["from"]), Path(own["out"]) if own["out"] else None, baseline)
            return 0
        replicates, seed_base = own["replicates"], own["seed_base"]
        if replicates < 2:
            raise ConfigError(f"replicates={replicates}: must be a whole number >= 2")
        if seed_base < 0:
            raise ConfigError(f"seed_base={seed_base}: must be a whole number >= 0")
        known = all_scenarios()
        scenarios = list(dict.fromkeys(own["scenarios"].split(","))) if own["scenarios"] else known
        for arg in rest:  # these would silently replace the sweep this program builds
            key = arg.split("=", 1)[0].lstrip("+~")
            if key in ("seed", "scenario", "hydra.sweep.subdir"):
                hint = {"seed": "seed_base= and replicates=", "scenario": "scenarios="}.get(
                    key, "the default"
                )
                raise ConfigError(f"{arg}: set by this program; use {hint} instead")
        unknown = [s for s in scenarios if s not in known]
        if unknown:
            raise ConfigError(
                f"scenarios: no such scenario {unknown[0]!r}; choose from {', '.join(known)}"
            )
        if baseline not in scenarios:
            scenarios = [baseline, *scenarios]
        sim_overrides = [a for a in rest if not a.startswith("-")]
        scenario_sweep = f"scenario={','.join(scenarios)}"
        # Seeds are always valid: check every scenario with the first and last seed only.
        validate_overrides(
            [scenario_sweep, f"seed={seed_base},{seed_base + replicates - 1}", *sim_overrides],
            multirun=True,
            config_name=CONFIG_NAME,
        )
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if own["resume"]:  # the same sweep directory: finished runs of the same config are reused
        if not Path(own["resume"]).is_dir():
            print(f"error: resume={own['resume']}: no such sweep directory", file=sys.stderr)
            return 2
        rest.append(f"hydra.sweep.dir={own['resume']}")
    total = len(scenarios) * replicates
    print(
        f"comparing {len(scenarios)} scenarios x {replicates} replicates = {total} runs",
        file=sys.stderr,
    )
    _FAILURES.clear()
    saved_argv, saved_quiet = sys.argv, os.environ.get("FUNNEL_SIM_QUIET")
    os.environ["FUNNEL_SIM_QUIET"] = "1"  # one progress bar instead of a line per run
    sys.argv = [
        sys.argv[0],
        "--config-name",
        CONFIG_NAME,
        "-m",
        scenario_sweep,
        f"seed=range({seed_base},{seed_base + replicates})",
        *rest,
        f"hydra.callbacks.comparison.total_jobs={total}",
        f"hydra.callbacks.comparison.baseline={baseline}",
        "~hydra.callbacks.kpi_table",
    ]
    from sim.cli import hydra_main

    try:
        hydra_main()
    finally:
        sys.argv = saved_argv
        if saved_quiet is None:
            os.environ.pop("FUNNEL_SIM_QUIET", None)
        else:
            os.environ["FUNNEL_SIM_QUIET"] = saved_quiet
    for failure in _FAILURES:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if _FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
