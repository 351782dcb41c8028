"""``python -m sim``: one simulation, or a Hydra sweep with ``-m``.

Every job a command asks for is composed and validated *before* Hydra starts (and so before
any output directory exists): a bad key or value prints one line naming it and exits with
status 2, without a traceback (set ``HYDRA_FULL_ERROR=1`` to see one).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.config import (
    CONF_DIR,
    config_dir_args,
    resolve_output_dir,
    to_sim_config,
    validate_overrides,
)
from sim.exits import FAILED, debugging, describe_failure, guarded
from sim.io import (
    FAILURE,
    RECORD,
    atomic_write,
    config_hash,
    find_runs,
    is_complete,
    load_runs,
    write_outputs,
)
from sim.kpis import HEADLINE, KPIS, with_role
from sim.limits import check_fits
from sim.params import ConfigError
from sim.study import check_writable, open_study, run_configs

#: The KPIs printed after a sweep (the registry's ``cli`` role, in funnel order).
TABLE_KPIS = with_role("cli", headline_first=False)

# Flags whose next argument is a value, not an override.
_VALUE_FLAGS = {
    "--config-name",
    "-cn",
    "--config-path",
    "-cp",
    "--config-dir",
    "-cd",
    "--experimental-rerun",
}
# Flags that make Hydra do something other than run jobs: no validation needed.
_INFO_FLAGS = {
    "--help",
    "-h",
    "--hydra-help",
    "--version",
    "--cfg",
    "-c",
    "--info",
    "-i",
    "--shell-completion",
    "-sc",
    "--resolve",
    "--package",
    "-p",
}


def kpi_table(summaries: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per scenario (and org, if several): each KPI's mean over runs, and the count.

    Runs of one scenario made with other settings (any parameter, the run length: their
    ``settings_hash`` differs) are never averaged together: each setting gets its own row,
    keyed by its hash (``settings`` column; a run's ``run.json`` records it).
    """
    df = pd.DataFrame(summaries)
    cols = [k for k in TABLE_KPIS if k in df]
    keys = ["org", "scenario"] if df["org"].nunique() > 1 else ["scenario"]
    if "settings_hash" in df and df.groupby(keys)["settings_hash"].nunique().max() > 1:
        df = df.assign(settings=df["settings_hash"].str[:8])
        keys = [*keys, "settings"]
    table = df.groupby(keys, sort=False)[cols].mean()
    table.insert(0, "runs", df.groupby(keys, sort=False).size())
    return table


def format_table(table: pd.DataFrame) -> str:
    """Render a KPI table for the terminal."""
    shown = table.copy()
    for col in shown.columns:
        kpi = KPIS.get(col)
        shown[col] = [kpi.format(v) if kpi else f"{v:,.0f}" for v in shown[col]]
    return shown.to_string()


class KpiTableCallback(Callback):
    """After a sweep, print the KPI table of every job that finished (Hydra callback)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Aggregate the sweep's summaries and print them."""
        sweep_dir = Path(config.hydra.sweep.dir)
        skipped: list[tuple[Path, str]] = []
        try:
            summaries = load_runs(sweep_dir, skipped).to_dict("records")
        except FileNotFoundError:
            return  # main() reports the runs that failed
        for run_dir, reason in skipped:
            print(f"skipped damaged run {run_dir}: {reason}", file=sys.stderr)
        spans = sorted({int(x["days"] - x["warmup_days"]) for x in summaries})
        days = " or ".join(map(str, spans))
        orgs = sorted({str(x["org"]) for x in summaries})
        print(
            f"\nKPIs over {days} business days after warm-up "
            f"(org: {', '.join(orgs)}; mean over seeds where a scenario has several runs):"
        )
        print(format_table(kpi_table(summaries)))
        print(f"\nrun outputs: {sweep_dir}/<job>/ (summary.json, timeseries.csv)")


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def hydra_main(cfg: DictConfig) -> None:
    """Run one simulation from a composed config and write its outputs."""
    hydra_cfg = HydraConfig.get()
    try:
        sim_cfg = to_sim_config(cfg, list(hydra_cfg.overrides.task))
        check_fits(sim_cfg)
    except ConfigError as exc:  # checked up front; this guards what changed since (memory)
        if hydra_cfg.mode == RunMode.MULTIRUN:  # the launching process reports it
            _record_failure(Path(hydra_cfg.runtime.output_dir), f"[job] {exc}")
            return
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    out_dir = Path(hydra_cfg.runtime.output_dir)
    if is_complete(out_dir, config_hash(sim_cfg)):  # a resumed sweep: this run is done
        if os.environ.get("FUNNEL_SIM_QUIET") != "1":
            print(
                f"[{sim_cfg.scenario.name} seed={sim_cfg.seed}] reused (same config) -> {out_dir}"
            )
        return
    # Imported here, in the process that runs the job: the process that only launches a
    # parallel sweep never loads the model, and so never imports Mesa (half a second).
    from sim.runner import run

    started = time.perf_counter()
    failure = out_dir / FAILURE
    # Journeys stream into the run directory as the run goes (bounded memory); write_outputs
    # renames the finished file into place.
    partial = out_dir / ".journeys.parquet.partial" if sim_cfg.record_journeys else None
    try:
        failure.unlink(missing_ok=True)  # a resumed sweep runs this job again
        if partial is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / RECORD).unlink(missing_ok=True)
        result = run(sim_cfg, journeys_path=partial)
        write_outputs(result, out_dir)
    except Exception as exc:
        if debugging():
            raise
        if partial is not None:
            partial.unlink(missing_ok=True)
        line = f"[{sim_cfg.scenario.name} seed={sim_cfg.seed}] {describe_failure(exc)}"
        if hydra_cfg.mode != RunMode.MULTIRUN:
            print(f"error: {line}", file=sys.stderr)
            sys.exit(1)
        _record_failure(out_dir, line)  # the sweep's other jobs go on
        return
    s = result.summary
    if os.environ.get("FUNNEL_SIM_QUIET") == "1":
        return
    shown = "  ".join(f"{KPIS[k].short} {KPIS[k].format(s[k])}" for k in HEADLINE)
    print(
        f"[{s['scenario']} seed={s['seed']}] {shown}  "
        f"({time.perf_counter() - started:.1f}s) -> {out_dir}"
    )


def _split_args(argv: list[str]) -> tuple[list[str], bool, bool, str]:
    """Return (overrides, multirun, info_only, config_name) from a command line."""
    overrides, multirun, info, config_name = [], False, False, "config"
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg in ("-m", "--multirun"):
            multirun = True
        elif arg in _INFO_FLAGS or arg.startswith("--cfg=") or arg.startswith("--info="):
            info = True
        elif arg in _VALUE_FLAGS:
            skip = True
            if arg in ("--config-name", "-cn") and i + 1 < len(argv):
                config_name = argv[i + 1]
        elif arg.startswith("--config-name="):
            config_name = arg.split("=", 1)[1]
        elif not arg.startswith("-"):
            overrides.append(arg)
    return overrides, multirun, info, config_name


def launcher_fixes(argv: list[str]) -> list[str]:
    """Work around known launcher traps so the documented commands work as written.

    hydra-ray-launcher 1.2 forces a 75 MiB object store, and Ray refuses any object store
    size when joining an existing cluster: with ``hydra/launcher=ray`` and an ``address``,
    ask for none (unless the command says otherwise).
    """
    ray = any(a in ("hydra/launcher=ray", "override hydra/launcher=ray") for a in argv)
    joins = any(a.startswith("hydra.launcher.ray.init.address=") for a in argv)
    sized = any("hydra.launcher.ray.init.object_store_memory" in a for a in argv)
    if ray and joins and not sized:
        return [*argv, "+hydra.launcher.ray.init.object_store_memory=null"]
    return argv


def _record_failure(out_dir: Path, line: str) -> None:
    """Leave ``failed.txt`` in a sweep job's folder: the launching process reports it."""
    with contextlib.suppress(OSError):
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(out_dir / FAILURE, lambda p: p.write_text(line + "\n"))


def sweep_failures(sweep_dir: Path, jobs: int) -> str | None:
    """One line on the jobs of a finished sweep that failed or never finished, or None."""
    failed = sorted(sweep_dir.glob(f"*/{FAILURE}"))
    missing = jobs - len(find_runs(sweep_dir))
    if not failed and missing <= 0:
        return None
    first = ""
    if failed:
        with contextlib.suppress(OSError):
            first = f"; first: {failed[0].read_text().strip()} ({failed[0]})"
    return (
        f"{max(missing, len(failed))} of {jobs} run(s) failed or did not finish{first}; "
        "HYDRA_FULL_ERROR=1 shows a traceback"
    )


def run_hydra(argv: list[str]) -> None:
    """Hand ``argv`` to Hydra's main (``--debug`` is this program's, not Hydra's)."""
    saved = sys.argv
    sys.argv = [saved[0], *[a for a in argv if a != "--debug"]]
    try:
        hydra_main()
    finally:
        sys.argv = saved


def main(argv: list[str] | None = None) -> int:
    """Validate the command line, then hand it to Hydra (a sweep holds its study's lock)."""
    argv = launcher_fixes(sys.argv[1:] if argv is None else argv)
    return guarded(
        lambda: _main(argv),
        argv,
        "interrupted; run the same command again to finish (finished runs are reused)",
    )


def _main(argv: list[str]) -> int:
    argv = config_dir_args(argv)
    overrides, multirun, info, config_name = _split_args(argv)
    if info:
        run_hydra(argv)
        return 0
    configs: list = []
    jobs = validate_overrides(overrides, multirun, config_name, configs)
    out_dir = check_writable(resolve_output_dir(overrides, multirun, config_name))
    if not multirun:
        if (out_dir / RECORD).exists() and not is_complete(out_dir, config_hash(configs[0])):
            raise ConfigError(
                f"{out_dir} holds a finished run of another config; choose another "
                "hydra.run.dir= (nothing was written)"
            )
        run_hydra([*argv, f"hydra.run.dir={out_dir}"])
        return 0
    # What the runs are (each distinct config, seed aside, files' contents included), not
    # where or how they run: the study's identity.
    settings = {"program": "python -m sim", "config": config_name, "runs": run_configs(configs)}
    with open_study(out_dir, settings, resume=True, resume_hint="the same command"):
        print(f"sweep: {jobs} run(s) -> {out_dir}", file=sys.stderr)
        run_hydra([*argv, f"hydra.sweep.dir={out_dir}"])
        failed = sweep_failures(out_dir, jobs)
    if failed:
        print(f"error: {failed}; run the same command again to retry them", file=sys.stderr)
        return FAILED
    return 0
