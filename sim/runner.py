"""The pure run function: one config in, one result out. Every engine calls this seam."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model import FunnelModel
from sim.params import ConfigError, SimConfig, build_config


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        summary: scalar KPIs over the measurement window, plus the run's identity
            (``scenario``, ``org``, ``seed``, ``days``, ``warmup_days``, ``version``).
        timeseries: one row per business day (stage counts, flows, revenue, utilisation).
        journeys: one row per lead, or None unless ``record_journeys`` was set (or the log
            was streamed to ``journeys_file``).
        config: the validated config the run used.
        model: the finished model, for inspection (not pickled with the result).
    """

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    journeys: pd.DataFrame | None
    config: SimConfig
    model: FunnelModel | None = field(default=None, repr=False, compare=False)
    journeys_file: Path | None = None


def run(
    config: SimConfig | dict[str, Any] | None = None,
    *,
    keep_model: bool = False,
    journeys_path: str | Path | None = None,
    **params: Any,
) -> RunResult:
    """Run one simulation to its horizon and return its outputs.

    Args:
        config: a ``SimConfig`` (e.g. from ``sim.load_config``) or a nested mapping.
        keep_model: keep the finished model on the result.
        journeys_path: with ``record_journeys``, stream the journey log to this parquet file
            (memory stays bounded); the result then names the file instead of holding rows.
        **params: flat overrides, as for ``FunnelModel``.

    Raises:
        ConfigError: if the config is invalid, the run would not fit in memory, or a result
            overflowed (``check_finite``).
    """
    from sim import __version__

    cfg = build_config(config, **params)
    started = time.perf_counter()
    model = FunnelModel(cfg, journeys_path=journeys_path)
    model.run()
    model.finish()
    wall = time.perf_counter() - started
    summary: dict[str, Any] = {
        "scenario": cfg.scenario.name,
        "org": cfg.org.name,
        "seed": cfg.seed,
        "days": cfg.days,
        "warmup_days": cfg.warmup_days,
        "version": __version__,
    }
    summary.update(model.kpis.summary())
    timeseries = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    check_finite(summary, timeseries)
    journeys = model.journeys.close() if model.journeys is not None else None
    result = RunResult(
        summary=summary,
        timeseries=timeseries,
        journeys=journeys,
        config=cfg,
        model=model if keep_model else None,
        journeys_file=Path(journeys_path) if cfg.record_journeys and journeys_path else None,
    )
    result.wall_seconds = wall  # not part of the summary: it would break byte-identity
    return result


def check_finite(summary: dict[str, Any], timeseries: pd.DataFrame) -> None:
    """Refuse results that overflowed, which the outputs would otherwise show as null or inf.

    A KPI may be NaN (a rate with no events, written as null), never infinite: an infinite
    value means a sum overflowed, which the parameters' bounds are meant to rule out.

    Raises:
        ConfigError: naming the first infinite KPI or time-series column.
    """
    for key, value in summary.items():
        if isinstance(value, float) and math.isinf(value):
            raise ConfigError(_overflow(key, value))
    numeric = timeseries.select_dtypes("number")
    for column in numeric.columns[numeric.isin([math.inf, -math.inf]).any()]:
        raise ConfigError(_overflow(f"timeseries.{column}", math.inf))


def _overflow(key: str, value: float) -> str:
    return (
        f"{key} = {value}: a result overflowed (beyond 1.8e308), so the run's outputs would "
        "be wrong; lower the parameters that scale it (org.deal_value_mean, "
        "behaviour.nurture_value_gain, or a custom tactic's)"
    )


def _summary_of(cfg: SimConfig) -> dict[str, Any]:
    return run(cfg).summary


def run_many(configs: list[SimConfig], n_jobs: int = -1, progress: Any = None) -> pd.DataFrame:
    """Run many configs in parallel processes (joblib) and return one summary row each.

    The rows come back in the order of ``configs`` whatever the number of processes, and
    each run depends only on its own config and seed, so the table is the same serially.
    ``progress``, if given, is called with (done, total) as runs finish.
    """
    from joblib import Parallel, delayed

    total = len(configs)
    if n_jobs == 1:
        rows = []
        for i, cfg in enumerate(configs):
            rows.append(_summary_of(cfg))
            if progress:
                progress(i + 1, total)
        return pd.DataFrame(rows)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    rows = []
    for i, summary in enumerate(parallel(delayed(_summary_of)(cfg) for cfg in configs)):
        rows.append(summary)
        if progress:
            progress(i + 1, total)
    return pd.DataFrame(rows)
