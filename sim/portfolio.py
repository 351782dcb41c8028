"""Portfolios of tactics under a budget: costs, net value, interactions, order, payback.

Pure functions over a study's tidy table (one row per run: ``scenario``, ``draw``, ``seed``,
the KPIs) and its daily series; ``experiments.portfolio`` runs the study and writes what these
return. No Hydra here.

Definitions (every column of ``portfolio.csv`` and ``interactions.csv`` is one of these):

- A **portfolio** is a set of tactics, adopted together on ``adoption_day`` (the day after
  the warm-up: an established organisation adopts them) and run for the **horizon** (the
  business days after adoption, ``horizon_years = horizon_days / 250``). Its scenario is
  named after its tactics joined by ``-`` (``baseline``: none).
- Its **costs**: the sum of its tactics' ``costs()`` (one-off, running per year). It **fits**
  a budget when one-off + one year's running costs <= the budget.
- **Revenue gained** per year: ``revenue_per_year`` of the portfolio minus the baseline's on
  the same seed and draw (the same market; the KPI window is the horizon, ramp-up included).
- **Net value** over the horizon: revenue gained per year x horizon_years - one-off costs -
  running costs x horizon_years; per pair (draw, seed), with the pair's drawn costs. Its mean,
  95% interval (Student t over the pairs), 10% quantile (the robust choice maximises it) and
  the probability that it is the best affordable portfolio (the share of pairs in which its
  net value is the highest).
- An **interaction** of tactics A and B on a KPI: ``(AB - 0) - (A - 0) - (B - 0)`` per pair
  (``0``: the baseline), its mean and 95% t interval; **complements** when the interval lies
  above 0 (together worth more than apart), **substitutes** below 0 (they overlap: both free
  the same hours, or carry the same feedback), **additive** when it includes 0.
- The **adoption order** (greedy): from nothing, add at each step the chosen portfolio's
  tactic whose addition raises the mean net value most (every subset of an affordable
  portfolio is affordable, so each step is a portfolio the study ran).
- **Payback**: the business days from adoption until the cumulative net revenue (daily
  revenue and renewals of the portfolio minus the baseline's, minus the one-off cost at
  adoption and the running costs day by day) turns positive for good; per seed, summarised
  as the median and the 2.5-97.5% range, in months (21 business days).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.effects import t_interval
from sim.params import BUSINESS_DAYS_PER_YEAR
from sim.portfolio_columns import INTERACTION_COLUMNS, ORDER_COLUMNS, PORTFOLIO_COLUMNS
from sim.portfolio_columns import INTERACTIONS as INTERACTIONS  # the file names, re-exported
from sim.portfolio_columns import ORDER as ORDER
from sim.portfolio_columns import TABLE as TABLE
from sim.tactics import COST_FIELDS, Tactic, is_declared

BASELINE = "baseline"
KPI = "revenue_per_year"
SEPARATOR = "-"
DAYS_PER_MONTH = BUSINESS_DAYS_PER_YEAR / 12
ROBUST_QUANTILE = 0.10
FRONTIER = "frontier"  # frontier.png / .svg
INTERACTION_FIGURE = "interactions"  # interactions.png / .svg
REPORT = "report.md"


def name_of(portfolio: Sequence[str]) -> str:
    """The scenario name of a portfolio (``baseline`` for none)."""
    return SEPARATOR.join(portfolio) if portfolio else BASELINE


def tactics_of(name: str) -> tuple[str, ...]:
    """The tactics of a portfolio's scenario name."""
    return () if name == BASELINE else tuple(name.split(SEPARATOR))


def subsets(tactics: Sequence[str], max_size: int | None = None) -> list[tuple[str, ...]]:
    """Every subset of ``tactics`` (in their order), smallest first, the empty one included."""
    top = len(tactics) if max_size is None else min(max_size, len(tactics))
    return [c for k in range(top + 1) for c in itertools.combinations(tactics, k)]


# --- costs ------------------------------------------------------------------------------------


def cost_draws(templates: dict[str, Tactic], draws: int, seed: int) -> pd.DataFrame:
    """Each tactic's costs in each draw: ``draw, tactic, one_off, running_per_year``.

    Draw 0 is the configured values; draws 1..n take each cost a tactic declares with a
    plausible range from a seeded Latin hypercube over those ranges (a cost without one keeps
    its configured value), through the tactic's own ``costs()`` (the liaison's scale with its
    people).
    """
    from scipy.stats import qmc

    from sim.space import check_plausible

    ranged = [
        (name, f, check_plausible(f"scenario.tactics.{name}.{f.name}", f))
        for name, t in templates.items()
        for f in dataclasses.fields(t)
        if f.name in COST_FIELDS and is_declared(type(t), f.name)
    ]
    unit = (
        qmc.LatinHypercube(d=len(ranged), seed=seed).random(draws)
        if ranged and draws
        else np.zeros((draws, 0))
    )
    rows = []
    for d in range(draws + 1):
        for name, t in templates.items():
            values = {
                f.name: float(u.ppf(unit[d - 1, j]))
                for j, (n, f, u) in enumerate(ranged)
                if n == name and d > 0
            }
            costs = dataclasses.replace(t, **values).costs() if values else t.costs()
            rows.append({"draw": d, "tactic": name, **costs})
    return pd.DataFrame(rows)


def portfolio_costs(costs: pd.DataFrame, portfolio: Sequence[str], draw: int = 0) -> dict:
    """A portfolio's one-off, running and first-year costs in ``draw``."""
    part = costs.loc[(costs.draw == draw) & costs.tactic.isin(list(portfolio))]
    one_off, running = float(part.one_off.sum()), float(part.running_per_year.sum())
    return {"one_off": one_off, "running_per_year": running, "first_year": one_off + running}


def fits(costs: pd.DataFrame, portfolio: Sequence[str], budget: float) -> bool:
    """Whether a portfolio's configured one-off plus first year's running costs fit the budget."""
    return portfolio_costs(costs, portfolio)["first_year"] <= budget


# --- net value ----------------------------------------------------------------------------------


def _by_pair(runs: pd.DataFrame, kpi: str = KPI) -> pd.DataFrame:
    """``kpi`` with one row per (draw, seed) and one column per scenario."""
    table = runs.pivot_table(
        index=["draw", "seed"], columns="scenario", values=kpi, aggfunc="first"
    )
    return table.sort_index()


def net_values(runs: pd.DataFrame, costs: pd.DataFrame, horizon_years: float) -> pd.DataFrame:
    """Net value of every portfolio in every pair: ``portfolio, draw, seed, gain, cost, net``."""
    wide = _by_pair(runs)
    if BASELINE not in wide:
        raise ValueError("no baseline runs to measure the revenue gained against")
    frames = []
    by_draw = {
        d: {
            name: portfolio_costs(costs, tactics_of(name), d)
            for name in wide.columns
            if name != BASELINE
        }
        for d in sorted(set(wide.index.get_level_values("draw")))
    }
    for name in wide.columns:
        if name == BASELINE:
            continue
        gain = (wide[name] - wide[BASELINE]).dropna()
        draws = gain.index.get_level_values("draw")
        one_off = np.array([by_draw[d][name]["one_off"] for d in draws])
        running = np.array([by_draw[d][name]["running_per_year"] for d in draws])
        cost = one_off + running * horizon_years
        frames.append(
            pd.DataFrame(
                {
                    "portfolio": name,
                    "draw": draws,
                    "seed": gain.index.get_level_values("seed"),
                    "gain_per_year": gain.to_numpy(),
                    "cost": cost,
                    "net": gain.to_numpy() * horizon_years - cost,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def portfolio_table(
    nets: pd.DataFrame, costs: pd.DataFrame, budget: float, tactics: Sequence[str]
) -> pd.DataFrame:
    """One row per portfolio (the empty one included), best expected net value first."""
    wide = nets.pivot_table(index=["draw", "seed"], columns="portfolio", values="net")
    fitting = [c for c in wide.columns if fits(costs, tactics_of(c), budget)]
    # the empty portfolio (do nothing) is always an option: net 0 in every pair
    best_of = wide[fitting].assign(**{BASELINE: 0.0}) if fitting else None
    winners = best_of.idxmax(axis=1) if best_of is not None else pd.Series(dtype=str)
    rows = [_row(BASELINE, (), None, costs, budget, winners, tactics)]
    for name in wide.columns:
        rows.append(_row(name, tactics_of(name), nets, costs, budget, winners, tactics))
    table = pd.DataFrame(rows, columns=list(PORTFOLIO_COLUMNS))
    return table.sort_values(["net_mean", "first_year_cost"], ascending=[False, True]).reset_index(
        drop=True
    )


def _row(
    name: str,
    portfolio: tuple[str, ...],
    nets: pd.DataFrame | None,
    costs: pd.DataFrame,
    budget: float,
    winners: pd.Series,
    tactics: Sequence[str],
) -> dict[str, Any]:
    c = portfolio_costs(costs, portfolio)
    if nets is None:  # doing nothing
        values = np.zeros(max(1, len(winners)))
        gain = np.zeros_like(values)
    else:
        part = nets.loc[nets.portfolio == name]
        values, gain = part.net.to_numpy(), part.gain_per_year.to_numpy()
    mean, lo, hi = t_interval(values)
    if nets is None:
        lo = hi = 0.0
    return {
        "portfolio": name,
        "tactics": " + ".join(portfolio) if portfolio else "(none)",
        "n_tactics": len(portfolio),
        "one_off_cost": c["one_off"],
        "running_cost_per_year": c["running_per_year"],
        "first_year_cost": c["first_year"],
        "fits_budget": c["first_year"] <= budget,
        "revenue_gain_per_year": float(np.mean(gain)),
        "net_mean": mean,
        "net_lo95": lo,
        "net_hi95": hi,
        "net_q10": float(np.quantile(values, ROBUST_QUANTILE)),
        "p_best": float((winners == name).mean()) if len(winners) else float("nan"),
        "n": len(values) if nets is not None else len(winners),
    }


def choose(table: pd.DataFrame) -> dict[str, Any]:
    """The expected-value choice, the runner-up, the robust choice among affordable ones."""
    ok = table.loc[table.fits_budget]
    by_mean = ok.sort_values("net_mean", ascending=False)
    best = by_mean.iloc[0]
    runner = by_mean.iloc[1] if len(by_mean) > 1 else None
    robust = ok.sort_values("net_q10", ascending=False).iloc[0]
    return {"best": best, "runner_up": runner, "robust": robust}


def p_beats(nets: pd.DataFrame, a: str, b: str) -> float:
    """The share of pairs in which portfolio ``a``'s net value exceeds ``b``'s (0 for none)."""
    wide = nets.pivot_table(index=["draw", "seed"], columns="portfolio", values="net")
    va = wide[a] if a != BASELINE else pd.Series(0.0, index=wide.index)
    vb = wide[b] if b != BASELINE else pd.Series(0.0, index=wide.index)
    return float((va > vb).mean())


def greedy_order(portfolio: Sequence[str], table: pd.DataFrame) -> pd.DataFrame:
    """The adoption order: each step adds the tactic that raises the mean net value most."""
    net = dict(zip(table.portfolio, table.net_mean, strict=True))
    order: list[str] = []
    rows = []
    current = 0.0
    left = list(portfolio)
    while left:
        options = {t: net[name_of(_sorted([*order, t], portfolio))] for t in left}
        pick = max(options, key=lambda t: options[t])
        rows.append(
            {
                "step": len(order) + 1,
                "tactic": pick,
                "marginal_net": options[pick] - current,
                "net_after": options[pick],
            }
        )
        order.append(pick)
        left.remove(pick)
        current = options[pick]
    return pd.DataFrame(rows, columns=list(ORDER_COLUMNS))


def _sorted(chosen: Iterable[str], order: Sequence[str]) -> tuple[str, ...]:
    return tuple(t for t in order if t in set(chosen))


def marginal_in_place(tactic: str, base: Sequence[str], table: pd.DataFrame, order) -> float:
    """The mean net value ``tactic`` adds to portfolio ``base`` (NaN if not run)."""
    net = dict(zip(table.portfolio, table.net_mean, strict=True))
    with_it = name_of(_sorted([*base, tactic], order))
    if with_it not in net:
        return float("nan")
    return net[with_it] - net.get(name_of(_sorted(base, order)), 0.0)


def optimise(
    evaluate: Callable[[list[tuple[str, ...]]], dict[tuple[str, ...], float]],
    tactics: Sequence[str],
    cost_of: Callable[[tuple[str, ...]], float],
    budget: float,
    trials: int,
    *,
    known: dict[tuple[str, ...], float] | None = None,
    batch: int = 8,
    seed: int = 0,
) -> dict[tuple[str, ...], float]:
    """Search the affordable portfolios with Optuna (TPE), for when they are too many to run all.

    Each trial picks a subset (one 0/1 choice per tactic) and records its constraint, cost
    minus budget (``Trial.set_constraint``: positive is infeasible, and TPE learns to avoid
    it); a subset over the budget is never run, one already known is told its value, and the
    rest are evaluated ``batch`` at a time by ``evaluate`` (portfolios -> mean net value; the
    program runs each on its replicates and draws, so a trial's value is already an
    expectation over them). ``known``: values to start from
    (the program's singles and pairs). Returns every portfolio evaluated and its value.
    """
    import optuna
    from optuna.distributions import IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {t: IntDistribution(0, 1) for t in tactics}

    def excess(p: tuple[str, ...]) -> float:
        return cost_of(p) - budget

    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    values = dict(known or {})
    floor = min(values.values(), default=0.0)
    for p, v in values.items():
        params = {t: int(t in p) for t in tactics}
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=space,
                value=v,
                system_attrs={"constraints:budget": excess(p)},
            )
        )
    asked = 0
    while asked < trials:
        pending: list[tuple[Any, tuple[str, ...]]] = []
        while len(pending) < batch and asked < trials:
            trial = study.ask(space)
            asked += 1
            p = tuple(t for t in tactics if trial.params[t])
            trial.set_constraint("budget", excess(p))
            if cost_of(p) > budget:
                study.tell(trial, floor)  # infeasible (constraints_func): never run
            elif p in values:
                study.tell(trial, values[p])
            else:
                pending.append((trial, p))
        fresh = sorted({p for _, p in pending})
        if fresh:
            values.update(evaluate(fresh))
        for trial, p in pending:
            study.tell(trial, values[p])
    return values


# --- interactions ----------------------------------------------------------------------------


def interactions(runs: pd.DataFrame, tactics: Sequence[str], kpi: str = KPI) -> pd.DataFrame:
    """Every pair's interaction on ``kpi``, paired by (draw, seed) (see the module docstring)."""
    wide = _by_pair(runs, kpi)
    base = wide[BASELINE]
    rows = []
    for a, b in itertools.combinations(tactics, 2):
        both, one, two = name_of((a, b)), name_of((a,)), name_of((b,))
        if not {both, one, two} <= set(wide.columns):
            continue
        pair = pd.concat([wide[both], wide[one], wide[two], base], axis=1).dropna()
        d = pair.to_numpy(float)
        values = d[:, 0] - d[:, 1] - d[:, 2] + d[:, 3]
        mean, lo, hi = t_interval(values)
        scale = float(d[:, 3].mean())
        ea, eb, eab = (
            float((d[:, 1] - d[:, 3]).mean()),
            float((d[:, 2] - d[:, 3]).mean()),
            float((d[:, 0] - d[:, 3]).mean()),
        )
        kind = "complements" if lo > 0 else "substitutes" if hi < 0 else "additive (ns)"
        rows.append(
            {
                "tactic_a": a,
                "tactic_b": b,
                "kpi": kpi,
                "n": len(values),
                "effect_a": ea,
                "effect_b": eb,
                "effect_ab": eab,
                "interaction": mean,
                "lo95": lo,
                "hi95": hi,
                "relative_interaction": mean / scale if scale else float("nan"),
                "relative_lo95": lo / scale if scale else float("nan"),
                "relative_hi95": hi / scale if scale else float("nan"),
                "kind": kind,
            }
        )
    return pd.DataFrame(rows, columns=list(INTERACTION_COLUMNS))


# --- payback ---------------------------------------------------------------------------------


def payback_days(
    series: pd.DataFrame,
    portfolio: str,
    schedule: Sequence[tuple[int, float, float]],
    adoption_day: int,
) -> pd.Series:
    """Business days from adoption until cumulative net revenue turns positive for good, by seed.

    ``series``: daily rows with ``scenario``, ``seed``, ``draw``, ``day``, ``revenue`` and
    ``recurring_revenue`` (the study's ``timeseries`` dataset); draw 0 only. ``schedule``:
    each tactic's (days after the first adoption, one-off cost, running cost per year): its
    one-off cost falls on its adoption day and its running costs accrue from then. NaN for a
    seed whose cumulative net revenue is not positive at the end of the horizon.
    """
    part = series.loc[(series.draw == 0) & (series.day >= adoption_day)]
    part = part.assign(money=part.revenue + part.recurring_revenue)
    wide = part.pivot_table(index="day", columns=["scenario", "seed"], values="money")
    elapsed = np.arange(len(wide))  # days since the first adoption
    spent = np.zeros(len(wide))
    for offset, one_off, running in schedule:
        on = elapsed >= offset
        spent += on * (one_off + running * (elapsed - offset + 1) / BUSINESS_DAYS_PER_YEAR)
    out = {}
    for seed in sorted(set(part.seed)):
        if (portfolio, seed) not in wide or (BASELINE, seed) not in wide:
            continue
        gain = (wide[(portfolio, seed)] - wide[(BASELINE, seed)]).to_numpy()
        cumulative = np.cumsum(gain) - spent
        negative = np.nonzero(cumulative <= 0)[0]
        if cumulative[-1] <= 0:
            out[seed] = float("nan")
        else:
            out[seed] = float(negative[-1] + 2) if len(negative) else 1.0
    return pd.Series(out, dtype=float)


def payback_summary(days: pd.Series) -> dict[str, float]:
    """Median and 2.5-97.5% range of payback in months; the share of seeds that pay back."""
    months = days / DAYS_PER_MONTH
    paid = months.dropna()
    if paid.empty:
        return {"payback_months": float("nan"), "lo": float("nan"), "hi": float("nan"), "share": 0}
    return {
        "payback_months": float(paid.median()),
        "lo": float(paid.quantile(0.025)),
        "hi": float(paid.quantile(0.975)),
        "share": float(len(paid) / len(months)),
    }


# --- figures ---------------------------------------------------------------------------------


def frontier_chart(table: pd.DataFrame, budget: float, chosen: str, stem: Path) -> list[Path]:
    """Net value against first-year cost of every portfolio, with the efficient frontier."""
    import matplotlib.pyplot as plt

    from sim.plotting import _save, money_label

    fig, ax = plt.subplots(figsize=(9, 5.5))
    ok = table.fits_budget
    for mask, colour, label in ((ok, "#1f77b4", "fits the budget"), (~ok, "#bbbbbb", "over")):
        part = table.loc[mask]
        ax.errorbar(
            part.first_year_cost,
            part.net_mean,
            yerr=[part.net_mean - part.net_lo95, part.net_hi95 - part.net_mean],
            fmt="o",
            color=colour,
            ecolor=colour,
            alpha=0.9,
            capsize=3,
            label=label,
        )
    front = frontier(table)
    ax.plot(front.first_year_cost, front.net_mean, "-", color="#2ca02c", label="efficient frontier")
    ax.axvline(budget, color="#d62728", ls="--", lw=1, label=f"budget {_plain(budget)}")
    ax.axhline(0, color="black", lw=0.6)
    # Labels only where a reader looks (ten tactics make dozens of points, and the best ones
    # crowd together): the chosen portfolio and the efficient frontier; the rest are in
    # portfolio.csv.
    named = {chosen, *front.portfolio}
    for _, row in table.iterrows():
        if row.portfolio in named:
            ax.annotate(
                row.tactics.replace(" + ", "+"),
                (row.first_year_cost, row.net_mean),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
                weight="bold" if row.portfolio == chosen else "normal",
            )
    ax.xaxis.set_major_formatter(lambda v, _pos: _plain(v))
    ax.yaxis.set_major_formatter(money_label)
    ax.set_xlabel("one-off + first year's running cost")
    ax.set_ylabel("net value over the horizon (revenue gained - costs)")
    ax.set_title("Portfolios of tactics: net value against cost (95% intervals)")
    ax.legend(fontsize=8, loc="best")
    return _save(fig, stem)


def _plain(value: float) -> str:
    """A cost on an axis: 150k, 1.2M."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M"
    return f"{value / 1e3:.0f}k" if value else "0"


def frontier(table: pd.DataFrame) -> pd.DataFrame:
    """The portfolios no cheaper one beats: the best net value at each cost, rising."""
    rows, best = [], -np.inf
    for _, row in table.sort_values(
        ["first_year_cost", "net_mean"], ascending=[True, False]
    ).iterrows():
        if row.net_mean > best:
            rows.append(row)
            best = row.net_mean
    return pd.DataFrame(rows)


def interaction_chart(table: pd.DataFrame, stem: Path) -> list[Path]:
    """Each pair's interaction with its 95% interval: complements right, substitutes left."""
    import matplotlib.pyplot as plt

    from sim.plotting import _save

    data = table.sort_values("relative_interaction").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(data) + 1.8))
    colours = {"complements": "#2ca02c", "substitutes": "#d62728", "additive (ns)": "#7f7f7f"}
    for i, row in data.iterrows():
        c = colours[row.kind]
        ax.plot([row.relative_lo95, row.relative_hi95], [i, i], color=c, lw=2)
        ax.plot(row.relative_interaction, i, "o", color=c)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(data)))
    ax.set_yticklabels([f"{a} + {b}" for a, b in zip(data.tactic_a, data.tactic_b, strict=True)])
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:+.1%}")
    ax.set_xlabel(
        "together minus the sum of each alone, share of baseline revenue per year\n"
        "(green: complements, red: substitutes, grey: interval includes 0)"
    )
    n = int(data.n.min()) if len(data) else 0
    ax.set_title(f"Do the tactics add up? Pair interactions, 95% intervals over {n} paired runs")
    return _save(fig, stem)
