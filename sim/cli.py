"""``python -m sim``: one simulation, or a Hydra sweep with ``-m``.

Every job a command asks for is composed and validated *before* Hydra starts (and so before
any output directory exists): a bad key or value prints one line naming it and exits with
status 2, without a traceback (set ``HYDRA_FULL_ERROR=1`` to see one).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.config import CONF_DIR, to_sim_config, validate_overrides
from sim.io import RECORD, config_hash, find_runs, is_complete, read_summary, write_outputs
from sim.params import ConfigError

#: The KPIs printed after a run or a sweep (all are in summary.json).
TABLE_KPIS = (
    "leads_created",
    "mqls",
    "mql_follow_up_rate",
    "mql_to_sql_rate",
    "opportunities",
    "win_rate",
    "deals_won",
    "revenue_per_year",
    "sales_cycle_days_median",
    "retention_12m",
)

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
    """One row per scenario (and org, if several): each KPI's mean over runs, and the count."""
    df = pd.DataFrame(summaries)
    cols = [k for k in TABLE_KPIS if k in df]
    keys = ["org", "scenario"] if df["org"].nunique() > 1 else ["scenario"]
    table = df.groupby(keys, sort=False)[cols].mean()
    table.insert(0, "runs", df.groupby(keys, sort=False).size())
    return table


def format_table(table: pd.DataFrame) -> str:
    """Render a KPI table for the terminal."""
    fmt = {
        "mql_follow_up_rate": "{:.1%}",
        "mql_to_sql_rate": "{:.1%}",
        "win_rate": "{:.1%}",
        "retention_12m": "{:.1%}",
        "revenue_per_year": "{:,.0f}",
    }
    shown = table.copy()
    for col in shown.columns:
        f = fmt.get(col, "{:,.0f}")
        shown[col] = [("n/a" if pd.isna(v) else f.format(v)) for v in shown[col]]
    return shown.to_string()


class KpiTableCallback(Callback):
    """After a sweep, print the KPI table of every job that finished (Hydra callback)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Aggregate the sweep's summaries and print them."""
        sweep_dir = Path(config.hydra.sweep.dir)
        summaries = [read_summary(p) for p in find_runs(sweep_dir)]
        if not summaries:
            print(f"no finished runs under {sweep_dir}", file=sys.stderr)
            return
        days = summaries[0]["days"] - summaries[0]["warmup_days"]
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
    try:
        sim_cfg = to_sim_config(cfg)
    except ConfigError as exc:  # validated up front; this guards sweeps declared in config
        _fail(exc)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
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
    # Journeys stream into the run directory as the run goes (bounded memory); write_outputs
    # renames the finished file into place.
    partial = out_dir / ".journeys.parquet.partial" if sim_cfg.record_journeys else None
    if partial is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / RECORD).unlink(missing_ok=True)
    try:
        result = run(sim_cfg, journeys_path=partial)
    except ConfigError as exc:  # e.g. a policy broke its contract (sim.policies.PolicyError)
        if partial is not None:
            partial.unlink(missing_ok=True)
        _fail(exc, f" (run {sim_cfg.scenario.name} seed={sim_cfg.seed}, in {out_dir})")
    write_outputs(result, out_dir)
    s = result.summary
    if os.environ.get("FUNNEL_SIM_QUIET") == "1":
        return
    print(
        f"[{s['scenario']} seed={s['seed']}] revenue/yr {s['revenue_per_year']:,.0f}  "
        f"win rate {s['win_rate']:.1%}  MQL->SQL {s['mql_to_sql_rate']:.1%}  "
        f"({time.perf_counter() - started:.1f}s) -> {out_dir}"
    )


def _fail(exc: ConfigError, where: str = "") -> NoReturn:
    """Stop this job with one line and exit status 2 (a traceback with HYDRA_FULL_ERROR=1).

    ``SystemExit`` is not an ``Exception``, so Hydra passes it on instead of printing a
    traceback; in a sweep it stops the sweep (the launcher re-raises it from the job).
    """
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise exc
    print(f"error: {exc}{where}", file=sys.stderr)
    sys.exit(2)


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
            if arg in ("--config-dir", "-cd", "--config-path", "-cp"):
                info = True  # another config tree: let Hydra (and the job's own check) decide
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


def main(argv: list[str] | None = None) -> int:
    """Validate the command line, then hand it to Hydra."""
    argv = launcher_fixes(sys.argv[1:] if argv is None else argv)
    overrides, multirun, info, config_name = _split_args(argv)
    if not info:
        try:
            jobs = validate_overrides(overrides, multirun, config_name)
        except ConfigError as exc:
            if os.environ.get("HYDRA_FULL_ERROR") == "1" or "--debug" in argv:
                raise
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if multirun:
            print(f"sweep: {jobs} run(s)", file=sys.stderr)
    sys.argv = [sys.argv[0], *[a for a in argv if a != "--debug"]]
    hydra_main()
    return 0
