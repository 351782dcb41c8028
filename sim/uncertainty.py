"""Effects under what we do not know: the assumptions drawn from their plausible ranges.

A comparison with parameter draws (``draws=`` of ``experiments.compare_tactics``) runs every
scenario on each draw of the uncertain assumptions (``sim.space``), with the same seeds within
a draw (common random numbers). Draw 0 holds the defaults: the comparison "given the default
assumptions", whose intervals cover only the market's noise. The draws 1, 2, ... carry both
the parameter uncertainty and the noise:

- each scenario's effect is taken pair by pair: on each (draw, seed), the scenario's KPI over
  the baseline's of the same draw and seed, minus 1;
- ``uncertainty(runs)`` summarises them per scenario and KPI: the median, the 80% and 95%
  ranges (quantiles over every draw and seed), ``p_positive`` (the share of pairs in which the
  scenario raises the KPI) and ``p_best`` (the share in which it is the best *single* change:
  one tactic, or the combined funnel, against each other, in the KPI's direction of better;
  NaN for bundles, so it sums to 1 over the single changes);
- ``consistency(runs)`` says which draws give a baseline that reproduces every published
  fact calibration fits (the others are organisations the evidence rules out); the
  comparison repeats ``uncertainty`` over those draws only;
- ``drivers(runs)`` ranks, for each scenario's effect, the assumptions that move it most: the
  Spearman rank correlation between a draw's value of each assumption and the draw's mean
  effect, with a 95% interval (Fisher's z), on the same sample.

The quantiles are of the pairs' effects: the spread of what one organisation would see, given
what is known, not the uncertainty of a mean.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.kpis import KPIS, LOWER

#: uncertainty.csv's columns, in order.
COLUMNS = [
    "scenario",
    "kpi",
    "median",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
    "p_positive",
    "p_best",
    "n_draws",
    "n_seeds",
]
#: drivers.csv's columns, in order.
DRIVER_COLUMNS = ["scenario", "kpi", "parameter", "method", "index", "lo95", "hi95", "n_draws"]
#: discovery.csv's columns, in order.
DISCOVERY_COLUMNS = [
    "scenario",
    "kpi",
    "threshold",
    "restrictions",
    "coverage",
    "density",
    "share_below",
    "n_draws",
    "note",
]
#: The input columns of the tidy table that hold the drawn assumptions.
INPUT_PREFIXES = ("behaviour.", "tactic.")


def pair_effects(runs: pd.DataFrame, baseline: str, kpis: list[str]) -> pd.DataFrame:
    """Each scenario's relative effect on each KPI, pair by pair (draw, seed), draws >= 1.

    Returns one row per scenario, draw and seed, with one column per KPI.
    """
    drawn = runs.loc[runs["draw"] > 0]
    base = drawn.loc[drawn.scenario == baseline].set_index(["draw", "seed"])[kpis]
    rows = []
    for scenario, part in drawn.loc[drawn.scenario != baseline].groupby("scenario", sort=False):
        mine = part.set_index(["draw", "seed"])[kpis]
        both = mine.join(base.add_suffix("_base"), how="inner")
        effect = pd.DataFrame(index=both.index)
        for kpi in kpis:
            b = both[f"{kpi}_base"].astype(float)
            effect[kpi] = (both[kpi].astype(float) / b.where(b != 0)) - 1.0
        effect.insert(0, "scenario", str(scenario))
        rows.append(effect.reset_index())
    if not rows:
        return pd.DataFrame(columns=["scenario", "draw", "seed", *kpis])
    return pd.concat(rows, ignore_index=True)


def single_changes(runs: pd.DataFrame, baseline: str) -> list[str]:
    """The scenarios that change one thing from the baseline: one tactic."""
    first = runs.groupby("scenario", sort=False).first()
    base = first.loc[baseline]
    singles = []
    for scenario, row in first.iterrows():
        if scenario == baseline:
            continue
        tactics = [t for t in str(row["tactics"]).split("+") if t and t != "none"]
        # the funnel is the combined_funnel tactic (tables written before it was count it apart)
        old_funnel = row["funnel"] != base["funnel"] and "combined_funnel" not in tactics
        changes = len(tactics) + old_funnel
        if changes == 1:
            singles.append(str(scenario))
    return singles


def uncertainty(runs: pd.DataFrame, baseline: str, kpis: list[str]) -> pd.DataFrame:
    """Median, 80% and 95% ranges, P(raises) and P(best single change) per scenario and KPI."""
    pairs = pair_effects(runs, baseline, kpis)
    singles = single_changes(runs, baseline)
    rows = []
    for kpi in kpis:
        sign = -1.0 if KPIS[kpi].direction == LOWER else 1.0
        wide = pairs.pivot_table(index=["draw", "seed"], columns="scenario", values=kpi)
        present = [s for s in singles if s in wide.columns]
        best = (
            (wide[present] * sign).dropna().idxmax(axis=1).value_counts(normalize=True)
            if present
            else pd.Series(dtype=float)
        )
        for scenario, part in pairs.groupby("scenario", sort=False):
            values = part[kpi].dropna().to_numpy(float)
            if len(values) == 0:
                q = [math.nan] * 5
                p_pos = math.nan
            else:
                q = np.quantile(values, [0.5, 0.1, 0.9, 0.025, 0.975]).tolist()
                p_pos = float(np.mean(values > 0))
            rows.append(
                {
                    "scenario": scenario,
                    "kpi": kpi,
                    "median": q[0],
                    "lo80": q[1],
                    "hi80": q[2],
                    "lo95": q[3],
                    "hi95": q[4],
                    "p_positive": p_pos,
                    "p_best": float(best.get(scenario, 0.0)) if scenario in present else math.nan,
                    "n_draws": int(part.loc[part[kpi].notna(), "draw"].nunique()),
                    "n_seeds": int(part.loc[part[kpi].notna(), "seed"].nunique()),
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def consistency(runs: pd.DataFrame, baseline: str, facts: list | None = None) -> pd.DataFrame:
    """Per draw (>= 1): does its baseline reproduce every pattern calibration fits?

    Drawn from their plausible ranges all at once, the assumptions can give a baseline
    organisation that the published patterns rule out (a black hole of 10%, a win rate of
    60%): calibration would reject it. The comparison's behavioural draws are screened
    against the facts beforehand (``experiments.screen``), on other seeds; this asks the
    question again of the draws as run (their own markets, another organisation, a
    behavioural parameter set on the command line, or ``behaviour_draws=prior``): a draw is
    *consistent* when its baseline's
    mean over the draw's seeds lies inside the range of every baseline level and ratio fact
    (``sim.validation.fitted_facts``: the published ones and those labelled as assumed; a KPI
    the run cannot measure counts as not reproduced).

    Returns one row per draw: ``draw``, ``checked`` (facts), ``reproduced``, ``consistent``
    and ``missed`` (the ids of the facts it misses, joined by ``+``; empty when none).
    """
    from sim.validation import fitted_facts, load_facts, with_derived

    facts = fitted_facts(facts if facts is not None else load_facts())
    columns = ["draw", "checked", "reproduced", "consistent", "missed"]
    drawn = runs.loc[(runs["draw"] > 0) & (runs.scenario == baseline)]
    if drawn.empty or not facts:
        return pd.DataFrame(columns=columns)
    kpis = sorted({f.kpi for f in facts})
    means = with_derived(drawn).groupby("draw")[kpis].mean()
    rows = []
    for draw, row in means.iterrows():
        missed = [f.id for f in facts if not (f.range[0] <= row[f.kpi] <= f.range[1])]
        rows.append(
            {
                "draw": int(draw),
                "checked": len(facts),
                "reproduced": len(facts) - len(missed),
                "consistent": not missed,
                "missed": "+".join(missed),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def consistency_in_words(fits: pd.DataFrame, top: int = 3) -> str:
    """In words: k of n draws give a baseline inside every published range; missed most."""
    n, k = len(fits), int(fits.consistent.astype(bool).sum()) if len(fits) else 0
    missed = fits.missed.fillna("").astype(str).str.split("+").explode()
    counts = missed.loc[missed != ""].value_counts().head(top)
    most = ", ".join(f"{fact} ({count} draws)" for fact, count in counts.items())
    text = (
        f"{k} of {n} draws give a baseline inside the range of every pattern calibration "
        f"fits ({fits.checked.max() if n else 0}: published, or labelled as assumed)"
    )
    return text + (f"; the facts missed most: {most}" if most else "")


def drivers(runs: pd.DataFrame, baseline: str, kpi: str, top: int | None = None) -> pd.DataFrame:
    """The assumptions that move each scenario's effect on ``kpi`` most (rank correlations).

    For each scenario, the draw's mean effect (over its seeds) against the draw's value of
    each assumption that varies across the scenario's draws; ranked by absolute correlation.
    """
    from scipy import stats

    rows = []
    for scenario, values, effect in _draw_tables(runs, baseline, kpi):
        n = len(effect)
        if n < 4 or effect.nunique() < 2:
            continue
        found = []
        for column in values.columns:
            rho = float(stats.spearmanr(values[column], effect).statistic)
            if not math.isfinite(rho):
                continue
            z, half = math.atanh(max(min(rho, 0.999999), -0.999999)), 1.96 / math.sqrt(n - 3)
            found.append(
                {
                    "scenario": scenario,
                    "kpi": kpi,
                    "parameter": column,
                    "method": "spearman",
                    "index": rho,
                    "lo95": math.tanh(z - half),
                    "hi95": math.tanh(z + half),
                    "n_draws": n,
                }
            )
        found.sort(key=lambda r: -abs(r["index"]))
        rows += found[:top] if top else found
    return pd.DataFrame(rows, columns=DRIVER_COLUMNS)


def _draw_tables(runs: pd.DataFrame, baseline: str, kpi: str):
    """Per scenario: (name, its varying assumptions per draw, its mean effect per draw).

    Draws >= 1; an assumption varies when it has a value in every draw and at least three
    distinct ones. The pairs are computed once for all scenarios.
    """
    pairs = pair_effects(runs, baseline, [kpi])
    drawn = runs.loc[runs["draw"] > 0]
    inputs = [c for c in runs.columns if c.startswith(INPUT_PREFIXES)]
    for scenario, part in pairs.groupby("scenario", sort=False):
        effect = part.groupby("draw")[kpi].mean().dropna()
        values = drawn.loc[drawn.scenario == scenario].groupby("draw")[inputs].first()
        values = values.loc[effect.index].apply(pd.to_numeric, errors="coerce")
        varying = [c for c in inputs if values[c].notna().all() and values[c].nunique() > 2]
        yield scenario, values[varying], effect


def discovery(runs: pd.DataFrame, baseline: str, kpi: str, threshold: float = 0.0) -> pd.DataFrame:
    """When does each tactic fail to pay? PRIM boxes of the draws whose effect is below it.

    For each scenario, the draws whose mean effect on ``kpi`` falls below ``threshold`` are
    the cases of interest; PRIM (the ``prim`` package: Friedman & Fisher's patient rule
    induction, as EMA Workbench uses it) peels the space of assumptions down to a box that
    holds many of them (``coverage``: the share of all such draws inside the box) and little
    else (``density``: the share of the box's draws that are such draws). Of the boxes on
    PRIM's peeling trajectory, the one reported restricts at most ``MAX_RESTRICTED``
    assumptions (``_readable_box``).
    """
    import warnings

    import prim

    rows = []
    for scenario, x, effect in _draw_tables(runs, baseline, kpi):
        below = (effect < threshold).to_numpy()
        row = {"scenario": scenario, "kpi": kpi, "threshold": threshold, "restrictions": "",
               "coverage": math.nan, "density": math.nan, "share_below": float(below.mean()),
               "n_draws": len(effect), "note": ""}  # fmt: skip
        if below.sum() < 2 or below.all() or x.shape[1] == 0:
            row["note"] = (
                "too few draws below the threshold for a box"
                if below.sum() < 2
                else "every draw is below the threshold"
                if below.all()
                else "no assumption varies"
            )
            rows.append(row)
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                box = prim.Prim(x, below, threshold=0.5, threshold_type=">").find_box()
                box.select(_readable_box(box.peeling_trajectory))
                limits = box.limits
            row["coverage"], row["density"] = float(box.coverage), float(box.density)
            row["restrictions"] = "; ".join(
                f"{name} in [{lim['min']:.3g}, {lim['max']:.3g}]" for name, lim in limits.iterrows()
            )
        except Exception as exc:  # PRIM found no box: say so instead of failing the report
            row["note"] = f"no box: {type(exc).__name__}: {exc}"
        rows.append(row)
    return pd.DataFrame(rows, columns=DISCOVERY_COLUMNS)


#: At most this many restricted assumptions in a reported box: with ~100 draws, a box that
#: restricts many more fits the sample's noise, and nobody can act on it.
MAX_RESTRICTED = 3


def _readable_box(trajectory: pd.DataFrame) -> int:
    """The box to report, by its place on PRIM's peeling trajectory.

    The densest box that restricts at most ``MAX_RESTRICTED`` assumptions and still covers
    half the cases; else the densest with few restrictions; else the first.
    """
    few = trajectory.loc[trajectory["res dim"] <= MAX_RESTRICTED]
    if few.empty:
        return 0
    covering = few.loc[few["coverage"] >= 0.5]
    pick = covering if not covering.empty else few
    return int(pick["density"].idxmax())


def discovery_in_words(table: pd.DataFrame, scenario: str) -> str:
    """'liaison adds no revenue when X in [a, b]: 80% of such draws, 70% of the box'."""
    part = table.loc[table.scenario == scenario]
    if part.empty:
        return ""
    r = part.iloc[0]
    if not r.restrictions:
        return f"{scenario}: {r.note} ({r.share_below:.0%} of the draws fall below)"
    if r.density < 0.5:
        return (
            f"{scenario} falls below {r.threshold:+.0%} in {r.share_below:.0%} of the draws, "
            f"and no box of at most {MAX_RESTRICTED} assumptions isolates them (the best, "
            f"{r.restrictions}, holds {r.coverage:.0%} of them but only {r.density:.0%} of its "
            "draws are such draws)"
        )
    return (
        f"{scenario} falls below {r.threshold:+.0%} when {r.restrictions}: the box holds "
        f"{r.coverage:.0%} of such draws, and {r.density:.0%} of its draws are such draws "
        f"({r.share_below:.0%} of all draws fall below)"
    )


def in_words(drivers_table: pd.DataFrame, scenario: str, k: int = 2) -> str:
    """'the liaison effect depends mostly on X (+0.62) and Y (-0.41)', or why it does not."""
    part = drivers_table.loc[drivers_table.scenario == scenario]
    strong = part.loc[(part.lo95 > 0) | (part.hi95 < 0)].head(k)
    if strong.empty:
        return f"no single assumption moves the {scenario} effect clearly at this sample size"
    named = [f"`{r.parameter}` ({r.index:+.2f})" for r in strong.itertuples()]
    return f"the {scenario} effect depends mostly on {' and '.join(named)}: measure these first"


def ranked_uncertainty(spread: pd.DataFrame, n_kpis: int = 2) -> pd.DataFrame:
    """The headline table: each scenario's median effect [80%] [95%], P(raises), P(best).

    For the first ``n_kpis`` headline KPIs; ranked by the median revenue effect.
    """
    from sim.kpis import HEADLINE

    rows = {}
    kpis = [k for k in HEADLINE if k in set(spread.kpi)][:n_kpis]
    for kpi in kpis:
        part = spread.loc[spread.kpi == kpi].set_index("scenario")
        label = f"{KPIS[kpi].short}: " if len(kpis) > 1 else ""
        rows[f"{label}median"] = part["median"].map("{:+.1%}".format)
        rows[f"{label}80% range"] = [
            f"[{a:+.1%}, {b:+.1%}]" for a, b in zip(part.lo80, part.hi80, strict=True)
        ]
        rows[f"{label}95% range"] = [
            f"[{a:+.1%}, {b:+.1%}]" for a, b in zip(part.lo95, part.hi95, strict=True)
        ]
        rows[f"{label}P(raises)"] = part["p_positive"].map("{:.0%}".format)
        rows[f"{label}P(best)"] = part["p_best"].map(
            lambda v: "-" if not np.isfinite(v) else f"{v:.0%}"
        )
    table = pd.DataFrame(rows)
    order = spread.loc[spread.kpi == HEADLINE[0]].set_index("scenario")["median"]
    table = table.loc[order.sort_values(ascending=False).index]
    table.index.name = "scenario"
    return table


def distribution_chart(runs: pd.DataFrame, baseline: str, kpi: str, path: Path) -> list[Path]:
    """Each scenario's distribution of effects across draws (a box per scenario)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = pair_effects(runs, baseline, [kpi])
    order = pairs.groupby("scenario")[kpi].median().sort_values().index.tolist()
    data = [pairs.loc[pairs.scenario == s, kpi].dropna().to_numpy(float) * 100 for s in order]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(order) + 1.5))
    ax.boxplot(data, vert=False, whis=(2.5, 97.5), showfliers=False, widths=0.6)
    ax.set_yticks(range(1, len(order) + 1), [s.replace("_", " ") for s in order])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"change in {KPIS[kpi].label} vs baseline (%)")
    ax.set_title(
        f"Effects across {int(pairs['draw'].nunique())} draws of the assumptions\n"
        "(box: the middle half of the draws; whiskers: 95% of them)",
        fontsize=11,
    )
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for suffix in (".png", ".svg"):
        target = path.with_suffix(suffix)
        fig.savefig(target, dpi=150)
        out.append(target)
    plt.close(fig)
    return out
