"""Pattern-oriented validation: does the model reproduce the published facts at once?

The facts live in ``sim/data/stylized_facts.yaml`` (a copy of the project's calibration
file); each has a ``kind`` that says how it is checked:

- ``level``: the KPI's mean over replicates of ``scenario`` lies inside ``range``;
- ``ratio``: the same, for a within-run ratio (speed to lead);
- ``uplift``: ``scenario / versus - 1`` on seed-paired runs (ratio of the paired means, with
  the paired-t interval of ``sim.effects``) lies inside ``range``;
- ``ordering``: the inequality between scenario means holds, and its paired 95% interval
  excludes zero;
- ``extreme``: the stated behaviour holds in a run of that extreme condition.

Each fact names the KPI that measures it (``kpi:``, a name in the KPI registry
``sim.kpis.KPIS`` or one of ``DERIVED``); reading the file refuses a name the registry does
not know, and ``FACT_METRICS`` (fact id -> KPI) is read from the file, not kept by hand. A
fact with no ``kpi`` fails validation with a note, so the file and the model cannot drift
apart silently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.effects import paired_effects, t_interval

FACTS_PATH = Path(__file__).resolve().parent / "data" / "stylized_facts.yaml"


@dataclass(frozen=True)
class Extreme:
    """An extreme condition: overrides for the baseline, the KPI to read and its limit."""

    overrides: dict[str, Any]
    metric: str
    op: str  # "==" or "<"
    limit: float


#: fact id -> the extreme condition that checks it.
EXTREMES: dict[str, Extreme] = {
    "no_marketing_no_mqls": Extreme({"inbound_leads_per_day": 0.0}, "mqls", "==", 0.0),
    "unlimited_capacity_no_ignoring": Extreme(
        {
            "rep_hours_per_day": 24.0,
            "n_reps": 60,
            "rep_initial_trust": 1.0,
            "trust_learning_rate": 0.0,
            "marketing_credit_discount": 1.0,
            "follow_up_bar": 0.0,
            "prospect_reserve_share": 0.0,
            "reserve_learning_rate": 0.0,
        },
        "mql_never_worked_share",
        "<",
        0.02,
    ),
}


@dataclass(frozen=True)
class Fact:
    """One published pattern, as written in the facts file."""

    id: str
    kind: str
    statement: str
    source: str = ""
    credibility: str = ""
    scenario: str = ""
    versus: str = ""
    metric: str = ""
    target: float = math.nan
    range: tuple[float, float] = (math.nan, math.nan)
    holds: str = ""
    mapping: str = ""
    kpi: str = ""  # the KPI that measures it (sim.kpis.KPIS, or DERIVED)


#: Patterns the evidence implies without measuring them, held to a band honestly labelled
#: as an assumption. Not in the facts file, which holds published figures only.
ASSUMED_FACTS: tuple[Fact, ...] = (
    Fact(
        id="black_hole_split",
        kind="level",
        statement="Reps leave marketing's leads unworked both by choice (distrust of their "
        "quality, their own pipeline first, what they are paid for) and for lack of time; "
        "neither alone explains the black hole.",
        source="assumption anchored on Sabnis, Chatterjee, Grewal & Lilien, Journal of "
        "Marketing 2013 (461 reps): follow-up falls with distrust of lead quality and with "
        "workload; no study gives the split (docs/ODD.md, 7.10)",
        credibility="assumption",
        scenario="baseline",
        metric="of the MQLs left unworked, the share the rep valued below its bar",
        kpi="unworked_by_choice_share",
        target=0.55,
        range=(0.3, 0.8),
    ),
)

#: KPIs the facts use that are derived from the registry's (``with_derived``).
DERIVED = {"churn_12m": "1 - retention_12m"}


def load_facts(path: str | Path = FACTS_PATH, assumed: bool = True) -> list[Fact]:
    """Read the facts file, and add the assumed patterns (``ASSUMED_FACTS``) unless told not."""
    data = yaml.safe_load(Path(path).read_text())
    facts = []
    for item in data["facts"]:
        item = dict(item)
        if "range" in item:
            item["range"] = tuple(float(x) for x in item["range"])
        if "target" in item:
            item["target"] = float(item["target"])
        facts.append(Fact(**item))
    from sim.kpis import KPIS

    for fact in facts:
        if fact.kpi and fact.kpi not in KPIS and fact.kpi not in DERIVED:
            raise ValueError(
                f"{path}: fact {fact.id}: kpi {fact.kpi!r} is not in the KPI registry "
                "(sim/kpis.py) nor derived (sim.validation.DERIVED)"
            )
    return facts + list(ASSUMED_FACTS) if assumed else facts


#: fact id -> the KPI that measures it, as the facts file (and ``ASSUMED_FACTS``) say.
FACT_METRICS: dict[str, str] = {f.id: f.kpi for f in load_facts() if f.kpi}


def ordering_sides(fact: Fact) -> tuple[str, str, str]:
    """``"a < b"`` -> ("a", "<", "b")."""
    match = re.fullmatch(r"\s*(\w+)\s*([<>])\s*(\w+)\s*", fact.holds)
    if not match:
        raise ValueError(f"fact {fact.id}: cannot read ordering {fact.holds!r}")
    return match.group(1), match.group(2), match.group(3)


def fitted_facts(facts: list[Fact]) -> list[Fact]:
    """The facts calibration fits: levels and ratios of the misaligned baseline.

    Every other fact (what alignment does: uplifts and orderings; extreme conditions) is
    held out: the mechanisms must reproduce it unaided.
    """
    return [f for f in facts if f.kind in ("level", "ratio") and f.scenario == "baseline"]


def scenarios_needed(facts: list[Fact]) -> list[str]:
    """Every scenario the facts compare (baseline first)."""
    names = {"baseline"}
    for f in facts:
        if f.kind in ("level", "ratio", "uplift"):
            names |= {n for n in (f.scenario, f.versus) if n}
        elif f.kind == "ordering":
            a, _, b = ordering_sides(f)
            names |= {a, b}
    return sorted(names, key=lambda s: (s != "baseline", s))


def with_derived(runs: pd.DataFrame) -> pd.DataFrame:
    """Add the derived KPIs the facts use (``churn_12m``)."""
    runs = runs.copy()
    if "retention_12m" in runs:
        runs["churn_12m"] = 1.0 - runs["retention_12m"]
    return runs


def evaluate(
    runs: pd.DataFrame,
    extremes: dict[str, pd.DataFrame] | None = None,
    facts: list[Fact] | None = None,
) -> pd.DataFrame:
    """Check every fact against ``runs`` (one row per run) and the extreme-condition runs.

    Returns one row per fact: id, kind, statement, source, credibility, metric, target,
    range_low, range_high, model_mean, ci_low, ci_high, n, passed, note.
    """
    facts = facts if facts is not None else load_facts()
    runs = with_derived(runs)
    extremes = extremes or {}
    rows = []
    for fact in facts:
        row: dict[str, Any] = {
            "id": fact.id,
            "kind": fact.kind,
            "statement": fact.statement,
            "source": fact.source,
            "credibility": fact.credibility,
            "metric": FACT_METRICS.get(
                fact.id, EXTREMES[fact.id].metric if fact.id in EXTREMES else ""
            ),
            "target": fact.target if fact.kind not in ("ordering", "extreme") else fact.holds,
            "range_low": fact.range[0],
            "range_high": fact.range[1],
            "model_mean": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "n": 0,
            "passed": False,
            "note": "",
        }
        try:
            _check(fact, row, runs, extremes)
        except (KeyError, IndexError, ValueError) as exc:
            row["note"] = f"not checked: {type(exc).__name__}: {exc}"
        rows.append(row)
    return pd.DataFrame(rows)


def _in_range(row: dict[str, Any]) -> bool:
    return bool(row["range_low"] <= row["model_mean"] <= row["range_high"])


def _check(
    fact: Fact, row: dict[str, Any], runs: pd.DataFrame, extremes: dict[str, pd.DataFrame]
) -> None:
    if fact.kind == "extreme":
        cond = EXTREMES.get(fact.id)
        if cond is None:
            row["note"] = "no extreme condition is defined for this fact"
            return
        values = extremes[fact.id][cond.metric].dropna().to_numpy(float)
        row["model_mean"], row["ci_low"], row["ci_high"] = t_interval(values)
        row["n"] = len(values)
        row["passed"] = bool(
            len(values)
            and (np.all(values == cond.limit) if cond.op == "==" else np.all(values < cond.limit))
        )
        row["note"] = f"every run: {cond.metric} {cond.op} {cond.limit:g}"
        return
    metric = FACT_METRICS.get(fact.id)
    if metric is None:
        row["note"] = "no model output is mapped to this fact"
        return
    if fact.kind in ("level", "ratio"):
        values = runs.loc[runs.scenario == fact.scenario, metric].dropna().to_numpy(float)
        row["model_mean"], row["ci_low"], row["ci_high"] = t_interval(values)
        row["n"] = len(values)
        row["passed"] = len(values) > 0 and _in_range(row)
    elif fact.kind == "uplift":
        eff = paired_effects(runs, baseline=fact.versus, kpis=[metric])
        eff = eff.loc[eff.scenario == fact.scenario].iloc[0]
        row["model_mean"] = eff.relative_effect
        row["ci_low"], row["ci_high"] = eff.relative_ci_low, eff.relative_ci_high
        row["n"] = int(eff.n)
        row["passed"] = row["n"] > 0 and _in_range(row)
    elif fact.kind == "ordering":
        a, op, b = ordering_sides(fact)
        eff = paired_effects(runs, baseline=b, kpis=[metric])
        eff = eff.loc[eff.scenario == a].iloc[0]
        row["model_mean"] = eff.effect
        row["ci_low"], row["ci_high"] = eff.effect_ci_low, eff.effect_ci_high
        row["n"] = int(eff.n)
        row["passed"] = bool(eff.effect_ci_high < 0 if op == "<" else eff.effect_ci_low > 0)
        row["note"] = f"paired difference {a} - {b}; its interval must be {op} 0"
    else:
        row["note"] = f"unknown kind {fact.kind!r}"


def calibration_loss(table: pd.DataFrame) -> float:
    """Distance of the model from the facts, each weighed by its range.

    For a level, ratio or uplift fact: ``((model - target) / width)^2`` plus ten times the
    squared distance outside the range in range widths (so missing a range costs far more
    than missing a point estimate inside it); an ordering that fails adds 1. Extreme facts
    are mechanism checks, not fitted.
    """
    loss = 0.0
    for row in table.itertuples():
        if row.kind in ("level", "ratio", "uplift"):
            width = row.range_high - row.range_low
            if not np.isfinite(row.model_mean):
                loss += 25.0
                continue
            outside = max(row.range_low - row.model_mean, row.model_mean - row.range_high, 0.0)
            target = float(row.target)
            if row.kind == "ratio":  # ratios spread over orders of magnitude: compare logs
                width = math.log(row.range_high / row.range_low)
                dist = math.log(max(row.model_mean, 1e-9) / target)
                outside = max(
                    math.log(row.range_low / max(row.model_mean, 1e-9)),
                    math.log(max(row.model_mean, 1e-9) / row.range_high),
                    0.0,
                )
                loss += (dist / width) ** 2 + 10 * (outside / width) ** 2
            else:
                loss += ((row.model_mean - target) / width) ** 2 + 10 * (outside / width) ** 2
        elif row.kind == "ordering":
            loss += 0.0 if row.passed else 1.0
    return float(loss)
