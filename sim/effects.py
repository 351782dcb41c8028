"""Tactic effects from replicated runs: paired by seed against the baseline, with intervals.

Runs with the same seed face the same market (common random numbers), so the effect of a
tactic is estimated from the *paired* differences ``scenario - baseline`` seed by seed: the
market's luck cancels out of each difference, and the interval is much narrower than one
computed from two independent samples (``unpaired_interval``, kept for comparison).

Intervals: the absolute effect has a Student-t interval on the paired differences
(mean +- t * sd / sqrt(n)); ``excludes_zero`` is that paired t-test at 95%. The relative
effect ``R - 1`` with ``R = mean(scenario) / mean(baseline)`` gets a delta-method interval:
a t interval on the linearised pairs ``(s_i - R * b_i) / mean(b)``, which carries the
uncertainty of the baseline mean too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.kpis import KPIS, LOWER, with_role

#: KPIs whose effects the comparison reports (the registry's ``effect`` role).
EFFECT_KPIS: list[str] = with_role("effect")
LEVEL = 0.95


def paired_table(
    runs: pd.DataFrame, scenario: str, kpi: str, baseline: str = "baseline"
) -> pd.DataFrame:
    """The ``kpi`` of ``scenario`` and ``baseline`` side by side, one row per shared seed.

    In a study with parameter draws (a ``draw`` column), runs pair by draw and seed.
    """
    keys = ["draw", "seed"] if "draw" in runs else ["seed"]
    a = runs.loc[runs.scenario == baseline].set_index(keys)[kpi]
    b = runs.loc[runs.scenario == scenario].set_index(keys)[kpi]
    if a.index.has_duplicates or b.index.has_duplicates:
        raise ValueError(
            f"several runs share a seed within scenario {scenario!r} or "
            f"{baseline!r}: aggregate one organisation at a time"
        )
    pairs = pd.concat({"baseline": a, "scenario": b}, axis=1, join="inner").dropna()
    return pairs.sort_index()


def t_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and Student-t interval of ``values``."""
    n = len(values)
    mean = float(np.mean(values)) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * np.std(values, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def unpaired_interval(
    runs: pd.DataFrame, scenario: str, kpi: str, baseline: str = "baseline", level: float = LEVEL
) -> tuple[float, float, float]:
    """Difference of means with a Welch interval, ignoring the pairing (for comparison)."""
    a = runs.loc[runs.scenario == baseline, kpi].dropna().to_numpy(float)
    b = runs.loc[runs.scenario == scenario, kpi].dropna().to_numpy(float)
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan"), float("nan")
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    diff = float(b.mean() - a.mean())
    half = stats.t.ppf(0.5 + level / 2, dof) * np.sqrt(va + vb)
    return diff, diff - half, diff + half


def _ratio_interval(
    base: np.ndarray, other: np.ndarray, level: float
) -> tuple[float, float, float]:
    """``mean(other) / mean(base) - 1`` with its delta-method t interval over the pairs."""
    if len(base) == 0 or base.mean() == 0:
        return float("nan"), float("nan"), float("nan")
    ratio = other.mean() / base.mean()
    _, lo, hi = t_interval((other - ratio * base) / abs(base.mean()), level)
    return float(ratio - 1.0), float(ratio - 1.0 + lo), float(ratio - 1.0 + hi)


def paired_effects(
    runs: pd.DataFrame,
    baseline: str = "baseline",
    kpis: list[str] | None = None,
    level: float = LEVEL,
) -> pd.DataFrame:
    """One row per scenario x KPI: n, means, absolute and relative effect with intervals.

    Args:
        runs: one row per run with at least ``scenario``, ``seed`` and the KPIs (``runs.csv``).
        baseline: the scenario every other one is compared with.
        kpis: the KPIs to report (default ``EFFECT_KPIS``).
        level: the confidence level of the intervals.
    """
    if baseline not in set(runs.scenario):
        raise ValueError(f"no runs of the baseline scenario {baseline!r} to compare with")
    kpis = [k for k in (kpis or list(EFFECT_KPIS)) if k in runs]
    rows = []
    for scenario in [s for s in runs.scenario.unique() if s != baseline]:
        for kpi in kpis:
            pairs = paired_table(runs, scenario, kpi, baseline)
            base = pairs["baseline"].to_numpy(float)
            other = pairs["scenario"].to_numpy(float)
            effect, lo, hi = t_interval(other - base, level)
            base_mean = float(base.mean()) if len(base) else float("nan")
            rel, rel_lo, rel_hi = _ratio_interval(base, other, level)
            rows.append(
                {
                    "scenario": scenario,
                    "kpi": kpi,
                    "n": len(pairs),
                    "baseline_mean": base_mean,
                    "scenario_mean": float(other.mean()) if len(other) else float("nan"),
                    "effect": effect,
                    "effect_ci_low": lo,
                    "effect_ci_high": hi,
                    "relative_effect": rel,
                    "relative_ci_low": rel_lo,
                    "relative_ci_high": rel_hi,
                    "excludes_zero": bool(lo > 0 or hi < 0),
                    "interval": f"{level:.0%} paired t (absolute), delta method (relative)",
                }
            )
    return pd.DataFrame(rows)


def ranked(effects: pd.DataFrame, kpi: str = "revenue_per_year") -> pd.DataFrame:
    """The scenarios ranked by their relative effect on ``kpi``, best first."""
    part = effects.loc[effects.kpi == kpi]
    better_high = KPIS[kpi].direction != LOWER if kpi in KPIS else True
    return part.sort_values("relative_effect", ascending=not better_high).reset_index(drop=True)
