"""Which tactics to adopt, and in which order, under a yearly budget.

Usage::

    python -m experiments.portfolio budget=150000 horizon_days=500
    python -m experiments.portfolio budget=80000 tactics=liaison,data_sharing replicates=20
    python -m experiments.portfolio budget=150000 draws=20           # with parameter draws
    python -m experiments.portfolio budget=150000 org=small hydra.run.dir=portfolios/acme

Every portfolio of tactics (sets of the registered tactics that have a ``conf/tactic/`` file,
or of ``tactics=a,b``) that fits the budget, and every pair whatever its cost (for the
interactions), runs on the same ``replicates`` seeds (``seed_base``, ...) against the
baseline, with its tactics adopted on the day after the warm-up and ``horizon_days`` business
days measured from there (their ramp-up included). A portfolio fits when its one-off costs
plus one year's running costs are at most ``budget`` (per year, in the deal-value currency).
With ``draws=N`` each portfolio also runs on N draws of every uncertain assumption (the
tactics' plausible ranges and the behavioural draws screened against the facts, as the
comparison draws them: ``sim.space``, ``experiments.screen``) and of the tactics' costs, one
seed each, paired across portfolios. ``sim.portfolio`` defines every number.

The search is exhaustive while the affordable portfolios (with the pairs) number at most
``max_portfolios``; beyond, the pairs run first and an Optuna (TPE) search runs up to
``max_portfolios`` in all, in batches, never one over the budget
(``sim.portfolio.optimise``). The chosen portfolio maximises the expected net value; the
robust one its 10% quantile; the adoption order adds, step by step, the tactic with the
largest marginal net value; then that sequence is run with adoption days ``stagger_days``
apart on the same seeds, to check it, and its payback measured.

Options: ``budget=`` (>= 0, default 150000), ``horizon_days=`` (>= 1, default 500),
``tactics=a,b``, ``replicates=`` (>= 2, default 10), ``seed_base=`` (default 1), ``draws=``
(default 0), ``draw_seed=`` (default 0), ``behaviour_draws=`` (``screened``, the default, or
``prior``: as in the comparison), ``stagger_days=`` (>= 0, default 60),
``max_portfolios=`` (default 128), ``n_jobs=`` (-1: every core). Any other ``key=value`` is
a ``python -m sim`` override applied to every run (``org=...``, ``behaviour.x=...``).

Writes into its Hydra run directory (``conf/portfolio.yaml``: by default
``portfolios/<date>/<time>_<org>``; choose it with ``hydra.run.dir=``, never an existing one):
``portfolio.csv``, ``interactions.csv``, ``adoption_order.csv``, ``frontier.png``/``.svg``,
``interactions.png``/``.svg``, ``report.md``, ``portfolio.json`` and the runs
(``study/``, ``sequence/``: tidy tables and daily series). Bad input prints one line and exits
2 before anything is written; a budget no tactic fits is an answer (exit 0, nothing run).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.common import check_run_overrides, entry, split_args
from sim import portfolio as pf
from sim.config import config_dir_args, group_options
from sim.exits import FAILED, debugging, describe_failure
from sim.params import BUSINESS_DAYS_PER_YEAR, ConfigError, SimConfig, build_config, config_dict
from sim.study import check_writable, open_study, run_configs

CONFIG_NAME = "portfolio"
OPTIONS: dict[str, Any] = {
    "budget": 150_000.0,
    "horizon_days": 500,
    "tactics": "",
    "replicates": 10,
    "seed_base": 1,
    "draws": 0,
    "draw_seed": 0,
    "behaviour_draws": "screened",
    "stagger_days": 60,
    "max_portfolios": 128,
    "n_jobs": -1,
}


def available_tactics(overrides: list[str]) -> list[str]:
    """The registered tactics with a ``conf/tactic/<name>.yaml``, in the registry's order."""
    from sim.tactics import tactic_names

    files = set(group_options("tactic", overrides, CONFIG_NAME))
    return [t for t in tactic_names() if t in files]


def _check_options(own: dict[str, Any], rest: list[str]) -> list[str]:
    """Refuse bad options (one line each); return the tactics to combine."""
    import math

    if not math.isfinite(own["budget"]) or own["budget"] < 0:
        raise ConfigError(f"budget={own['budget']}: must be a number >= 0 (currency per year)")
    if own["horizon_days"] < 1:
        raise ConfigError(f"horizon_days={own['horizon_days']}: must be a whole number >= 1")
    if own["replicates"] < 2:
        raise ConfigError(f"replicates={own['replicates']}: must be a whole number >= 2")
    for key in ("seed_base", "draws", "draw_seed", "stagger_days"):
        if own[key] < 0:
            raise ConfigError(f"{key}={own[key]}: must be a whole number >= 0")
    from sim.space import check_behaviour_draws

    check_behaviour_draws(own["behaviour_draws"])
    if own["max_portfolios"] < 1:
        raise ConfigError(f"max_portfolios={own['max_portfolios']}: must be a whole number >= 1")
    if own["n_jobs"] == 0 or own["n_jobs"] < -1:
        raise ConfigError(f"n_jobs={own['n_jobs']}: use -1 for every core, or a positive count")
    check_run_overrides(
        rest,
        {
            "seed": "seed_base= and replicates=",
            "scenario": "tactics=",
            "days": "horizon_days=",
            "warmup_days": "horizon_days= (warm-up: the organisation's own)",
        },
        runs="a portfolio search",
        variants="portfolio",
        scenario_hint="set a tactic's values in its conf/tactic/<name>.yaml (under "
        "--config-dir DIR) instead",
    )
    known = available_tactics(rest)
    chosen = list(dict.fromkeys(t for t in own["tactics"].split(",") if t)) or known
    for tactic in chosen:
        if tactic not in known:
            raise ConfigError(
                f"tactics={own['tactics']}: {tactic!r} is not a tactic with a conf/tactic file; "
                f"choose from {', '.join(known) or '(none)'}"
            )
    if not chosen:
        raise ConfigError("tactics: no registered tactic has a conf/tactic/<name>.yaml")
    return chosen


def build_base(own: dict[str, Any], rest: list[str], tactics: list[str]):
    """The baseline config (days and warm-up set) and each tactic's configured parameters."""
    import sim

    base = sim.load_config(["scenario=baseline", *rest], CONFIG_NAME)
    base = build_config(base, days=base.warmup_days + own["horizon_days"])
    specs = {}
    for t in tactics:
        cfg = sim.load_config(["scenario=baseline", f"+tactic@scenario.tactics.{t}={t}", *rest])
        specs[t] = config_dict(cfg)["scenario"]["tactics"][t]
    return base, specs


def portfolio_config(
    base: SimConfig,
    specs: dict[str, dict],
    portfolio: tuple[str, ...],
    days: dict[str, int],
    name: str | None = None,
) -> SimConfig:
    """``base`` with ``portfolio``'s tactics, each adopted on its day in ``days``."""
    data = config_dict(base)
    data["scenario"]["tactics"] = {t: {**specs[t], "adoption_day": days[t]} for t in portfolio}
    data["scenario"].pop("funnel", None)  # the funnel follows the tactics (combined_funnel)
    data["scenario"]["name"] = name or pf.name_of(portfolio)
    return build_config(data)


def main(argv: list[str] | None = None) -> int:
    """Parse, validate everything, then search the portfolios and write the answer."""
    return entry(sys.argv[1:] if argv is None else argv, __doc__, _main)


def _main(argv: list[str]) -> int:
    from sim.config import resolve_output_dir
    from sim.limits import check_fits

    own, rest = split_args(config_dir_args(argv), OPTIONS)
    tactics = _check_options(own, rest)
    base, specs = build_base(own, rest, tactics)
    templates = {
        t: build_config(base, tactics={t: specs[t]}).scenario.tactic_params()[t] for t in tactics
    }
    costs = pf.cost_draws(templates, own["draws"], own["draw_seed"])
    budget = own["budget"]
    singles = {t: pf.portfolio_costs(costs, (t,))["first_year"] for t in tactics}
    if all(c > budget for c in singles.values()):
        cheapest = min(singles, key=lambda t: singles[t])
        print(
            f"no tactic fits a budget of {budget:,.0f} a year; the cheapest, {cheapest}, costs "
            f"{singles[cheapest]:,.0f} in its first year (one-off + running)"
        )
        return 0
    start = pf.subsets(tactics, 2)  # always run: nothing, each alone, each pair (interactions)
    if len(start) > own["max_portfolios"]:
        raise ConfigError(
            f"max_portfolios={own['max_portfolios']}: {len(tactics)} tactics need "
            f"{len(start)} portfolios for their pairs alone; choose fewer with tactics=a,b,... "
            "or raise max_portfolios="
        )
    affordable = _affordable(tactics, costs, budget, own["max_portfolios"])
    exhaustive = (
        affordable is not None and len(set(start) | set(affordable)) <= own["max_portfolios"]
    )
    portfolios = list(dict.fromkeys([*start, *(affordable if exhaustive else [])]))
    adopt = base.warmup_days + 1

    def config_of(p: tuple[str, ...]) -> SimConfig:
        return portfolio_config(base, specs, p, dict.fromkeys(p, adopt))

    configs = [config_of(p) for p in portfolios]
    design = config_of(tuple(tactics))  # the draws' design spans every tactic's uncertainties
    for cfg in configs:
        check_fits(cfg)
    out = check_writable(resolve_output_dir(rest, False, CONFIG_NAME))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(
            f"{out}: already exists and is not empty; a portfolio search is never written over "
            "another's files: choose another hydra.run.dir= (nothing was written)"
        )
    seeds = range(own["seed_base"], own["seed_base"] + own["replicates"])
    specs_ = _run_specs(configs, seeds, own, design)
    settings = {
        "program": "python -m experiments.portfolio",
        **{k: own[k] for k in OPTIONS if k != "n_jobs"},
        "tactics": tactics,
        "runs": run_configs(configs),
    }
    with open_study(out, settings, resume=False, resume_hint="another hydra.run.dir="):
        print(
            f"portfolio search on org '{base.org.name}', budget {budget:,.0f}/year, "
            f"{own['horizon_days']} business days after adoption: {len(portfolios)} portfolios "
            f"of {', '.join(tactics)} x ({len(seeds)} seeds + {own['draws']} draws) = "
            f"{len(specs_)} runs -> {out}"
            + ("" if exhaustive else "; then an Optuna search of the affordable ones"),
            file=sys.stderr,
        )
        step = "a run"
        try:
            started = time.perf_counter()
            runs = _study(specs_, out / "study", own)
            if not exhaustive:
                step = "the Optuna search"
                runs = _search(runs, specs_, config_of, design, seeds, costs, own, tactics, out)
            step = "the analysis"
            result = analyse(runs, costs, own, tactics, adopt, out / "study")
            result["exhaustive"] = exhaustive
            step = "the sequence check"
            if len(result["order"]) > 1:
                print(
                    f"checking the adoption order {' -> '.join(result['order'].tactic)} with "
                    f"adoption days {own['stagger_days']} apart",
                    file=sys.stderr,
                )
            result["sequence"] = check_sequence(result, base, specs, own, adopt, costs, out)
            step = "writing the answer"
            write(out, result, own, tactics, base, time.perf_counter() - started, argv)
        except Exception as exc:  # after work started: one line, exit 1
            if debugging(argv):
                raise
            print(
                f"error: {step} failed: {describe_failure(exc)}; {out} is incomplete "
                "(no portfolio.json), run again into another hydra.run.dir=",
                file=sys.stderr,
            )
            return FAILED
    print(result["text"])
    print(f"\nwritten: {out / pf.TABLE}, {out / pf.REPORT}, {out / (pf.FRONTIER + '.png')}")
    return 0


DESIGN = "all-tactics-design"  # the draws' design config's name: never run


def _run_specs(
    configs: list[SimConfig], seeds: range, own: dict[str, Any], design: SimConfig
) -> list[Any]:
    """Each config's runs: the seeds at the default assumptions, then one seed per draw.

    The draws come from one design over every tactic's uncertainties (``design``), so draw d
    is the same point for every portfolio, whichever batch it is run in.
    """
    from experiments.compare_tactics import drawn_specs, run_specs

    drawn = {key: own[key] for key in ("draws", "draw_seed", "behaviour_draws")}
    every = [
        dataclasses.replace(design, scenario=dataclasses.replace(design.scenario, name=DESIGN))
    ]
    draws = drawn_specs(
        [*every, *configs], {**drawn, "seeds_per_draw": 1, "method": "lhs"}, seeds.stop
    )
    return run_specs(configs, seeds) + [s for s in draws if s.config.scenario.name != DESIGN]


def _affordable(
    tactics: list[str], costs: pd.DataFrame, budget: float, limit: int
) -> list[tuple[str, ...]] | None:
    """Every affordable portfolio; None when more than ``limit``, or past 2^16 subsets."""
    if len(tactics) > 16:
        return None
    found = [p for p in pf.subsets(tactics) if pf.fits(costs, p, budget)]
    return found if len(found) <= limit else None


def _search(
    runs: pd.DataFrame,
    specs: list[Any],
    config_of: Any,
    design: SimConfig,
    seeds: range,
    costs: pd.DataFrame,
    own: dict[str, Any],
    tactics: list[str],
    out: Path,
) -> pd.DataFrame:
    """Optuna over the affordable portfolios (``sim.portfolio.optimise``); the runs of all."""
    years = own["horizon_days"] / BUSINESS_DAYS_PER_YEAR
    state = {"runs": runs, "specs": list(specs)}

    def means() -> dict[tuple[str, ...], float]:
        nets = pf.net_values(state["runs"], costs, years)
        return {pf.tactics_of(n): v for n, v in nets.groupby("portfolio").net.mean().items()}

    def evaluate(portfolios: list[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
        state["specs"] += _run_specs([config_of(p) for p in portfolios], seeds, own, design)
        state["runs"] = _study(state["specs"], out / "study", own)
        found = means()
        return {p: found[p] for p in portfolios}

    budget = own["budget"]
    known = {p: v for p, v in means().items() if pf.fits(costs, p, budget)} | {(): 0.0}
    trials = own["max_portfolios"] - len(pf.subsets(tactics, 2))
    pf.optimise(
        evaluate,
        tactics,
        lambda p: pf.portfolio_costs(costs, p)["first_year"],
        budget,
        trials,
        known=known,
        seed=own["draw_seed"],
    )
    return state["runs"]


def _study(specs: list[Any], where: Path, own: dict[str, Any]) -> pd.DataFrame:
    """Run the specs on warm workers (``sim.batch``); the tidy table, or raise on a failure."""
    from sim.batch import Backend, run_study

    done = run_study(specs, where, backend=Backend(n_jobs=own["n_jobs"]))
    if done.failures:
        raise RuntimeError(f"{len(done.failures)} run(s) failed; first: {done.failures[0][1]}")
    return done.runs


def analyse(
    runs: pd.DataFrame,
    costs: pd.DataFrame,
    own: dict[str, Any],
    tactics: list[str],
    adopt: int,
    study: Path,
) -> dict[str, Any]:
    """The tables, the choice, the order and the payback (``sim.portfolio`` defines them)."""
    from sim import tidy

    years = own["horizon_days"] / BUSINESS_DAYS_PER_YEAR
    nets = pf.net_values(runs, costs, years)
    table = pf.portfolio_table(nets, costs, own["budget"], tactics)
    picks = pf.choose(table)
    best, runner = picks["best"], picks["runner_up"]
    chosen = pf.tactics_of(best.portfolio)
    order = pf.greedy_order(chosen, table)
    beats = pf.p_beats(nets, best.portfolio, runner.portfolio) if runner is not None else 1.0
    inter = pf.interactions(runs, tactics)
    payback = {"payback_months": float("nan"), "lo": float("nan"), "hi": float("nan"), "share": 0}
    if chosen:
        series = tidy.read_dataset(study, tidy.TIMESERIES, [best.portfolio, pf.BASELINE])
        c = pf.portfolio_costs(costs, chosen)
        days = pf.payback_days(
            series, best.portfolio, [(0, c["one_off"], c["running_per_year"])], adopt
        )
        payback = pf.payback_summary(days)
    return {
        "nets": nets,
        "table": table,
        "best": best,
        "runner_up": runner,
        "robust": picks["robust"],
        "p_beats_runner_up": beats,
        "order": order,
        "interactions": inter,
        "payback": payback,
        "costs": costs,
    }


def check_sequence(
    result: dict[str, Any],
    base: SimConfig,
    specs: dict[str, dict],
    own: dict[str, Any],
    adopt: int,
    costs: pd.DataFrame,
    out: Path,
) -> dict[str, Any] | None:
    """Run the adoption order with adoption days ``stagger_days`` apart; its net and payback."""
    from sim import tidy

    order = list(result["order"].tactic)
    if len(order) < 2:
        return None
    days = {t: adopt + i * own["stagger_days"] for i, t in enumerate(order)}
    horizon_end = base.days
    late = [t for t, d in days.items() if d > horizon_end]
    if late:
        return {"skipped": f"{late[0]} would be adopted after the horizon"}
    cfg = portfolio_config(base, specs, tuple(order), days, name="sequence")
    baseline = portfolio_config(base, specs, (), {})
    seeds = range(own["seed_base"], own["seed_base"] + own["replicates"])
    from experiments.compare_tactics import run_specs

    runs = _study(run_specs([baseline, cfg], seeds), out / "sequence", own)
    years = own["horizon_days"] / BUSINESS_DAYS_PER_YEAR
    pairs = runs.pivot_table(index="seed", columns="scenario", values=pf.KPI)
    gain = (pairs["sequence"] - pairs[pf.BASELINE]).to_numpy()
    schedule = []
    cost = 0.0
    for t, d in days.items():
        c = pf.portfolio_costs(costs, (t,))
        schedule.append((d - adopt, c["one_off"], c["running_per_year"]))
        cost += c["one_off"] + c["running_per_year"] * max(
            0.0, years - (d - adopt) / BUSINESS_DAYS_PER_YEAR
        )
    from sim.effects import t_interval

    mean, lo, hi = t_interval(gain * years - cost)
    series = tidy.read_dataset(out / "sequence", tidy.TIMESERIES)
    payback = pf.payback_summary(pf.payback_days(series, "sequence", schedule, adopt))
    return {
        "days": days,
        "net_mean": mean,
        "net_lo95": lo,
        "net_hi95": hi,
        "payback": payback,
        "n": len(gain),
    }


def write(
    out: Path,
    result: dict[str, Any],
    own: dict[str, Any],
    tactics: list[str],
    base: SimConfig,
    wall: float,
    argv: list[str],
) -> None:
    """Write the tables, the figures, the report section and portfolio.json (last)."""
    import sim
    from sim.io import atomic_write, source_digest

    table, inter = result["table"], result["interactions"]
    atomic_write(out / pf.TABLE, lambda p: table.to_csv(p, index=False))
    atomic_write(out / pf.INTERACTIONS, lambda p: inter.to_csv(p, index=False))
    atomic_write(out / pf.ORDER, lambda p: result["order"].to_csv(p, index=False))
    pf.frontier_chart(table, own["budget"], result["best"].portfolio, out / pf.FRONTIER)
    if len(inter):
        pf.interaction_chart(inter, out / pf.INTERACTION_FIGURE)
    text = report_text(result, own, tactics, base)
    result["text"] = text
    atomic_write(out / pf.REPORT, lambda p: p.write_text(text + "\n", encoding="utf-8"))
    record = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "program": "python -m experiments.portfolio",
        "command": " ".join(["python -m experiments.portfolio", *argv]),
        "org": base.org.name,
        **{k: own[k] for k in OPTIONS if k != "n_jobs"},
        "tactics": tactics,
        "adoption_day": base.warmup_days + 1,
        "days": base.days,
        "chosen": result["best"].portfolio,
        "robust": result["robust"].portfolio,
        "order": list(result["order"].tactic),
        "version": sim.__version__,
        "source_digest": source_digest(),
        "wall_seconds": round(wall, 1),
        "columns": "see sim/portfolio.py",
    }
    atomic_write(
        out / "portfolio.json", lambda p: p.write_text(json.dumps(record, indent=2, default=str))
    )


def _money(v: float) -> str:
    return "n/a" if pd.isna(v) else f"{v:,.0f}"


def report_text(result: dict[str, Any], own: dict[str, Any], tactics: list[str], base) -> str:
    """The report section: what to do first, with its numbers, in words."""
    best, robust, runner = result["best"], result["robust"], result["runner_up"]
    table, order = result["table"], result["order"]
    budget, horizon = own["budget"], own["horizon_days"]
    n = int(best.n) if best.n else int(table.n.max())
    lines = [
        f"## Portfolio under a budget of {_money(budget)} a year",
        "",
        f"Org '{base.org.name}'; "
        + (
            f"every portfolio of {', '.join(tactics)} that fits the budget"
            if result.get("exhaustive", True)
            else f"the portfolios of {', '.join(tactics)} that fit the budget and an Optuna "
            f"search ran ({int(table.fits_budget.sum())} of them; too many to run all)"
        )
        + f" (one-off + first year's running costs), adopted on day {base.warmup_days + 1} and "
        f"measured over the {horizon} business days after (ramp-up included), {n} paired runs "
        f"each ({own['replicates']} seeds at the default assumptions"
        + (f" + {own['draws']} draws of the assumptions and costs" if own["draws"] else "")
        + "). Net value = revenue gained - costs over the horizon; 95% intervals.",
        "",
    ]
    chosen = pf.tactics_of(best.portfolio)
    if not chosen:
        lines.append(
            "**With this budget, adopt nothing**: no affordable portfolio is expected to earn "
            "more than it costs over the horizon."
        )
    else:
        steps = " then ".join(order.tactic)
        lines.append(
            f"**With this budget, do {steps}.** Expected net value {_money(best.net_mean)} "
            f"[{_money(best.net_lo95)}, {_money(best.net_hi95)}] over the horizon, for "
            f"{_money(best.first_year_cost)} in the first year; it beats the runner-up "
            f"({runner.tactics if runner is not None else '-'}) in "
            f"{result['p_beats_runner_up']:.0%} of the paired runs and is the best affordable "
            f"portfolio in {best.p_best:.0%}."
        )
        pay = result["payback"]
        if pay["share"]:
            lines.append(
                f"Payback: {pay['payback_months']:.1f} months after adoption (median; "
                f"{pay['lo']:.1f}-{pay['hi']:.1f} across seeds; {pay['share']:.0%} of seeds "
                "pay back within the horizon)."
            )
        else:
            lines.append("Payback: not within the horizon in any seed.")
    if robust.portfolio != best.portfolio:
        lines.append(
            f"The robust choice (best 10% quantile of net value) is {robust.tactics}: "
            f"{_money(robust.net_q10)} against {_money(best.net_q10)}."
        )
    else:
        lines.append("The robust choice (best 10% quantile of net value) is the same.")
    lines.append("")
    if len(order) > 1:
        lines.append("Adoption order, by marginal net value:")
        lines += [
            f"{r.step}. {r.tactic}: adds {_money(r.marginal_net)}" for r in order.itertuples()
        ]
        lines.append("")
    little = _adds_little(table, chosen, tactics)
    if little:
        lines.append(little)
        lines.append("")
    seq = result.get("sequence")
    if seq and "skipped" not in seq:
        when = ", ".join(f"{t} on day {d}" for t, d in seq["days"].items())
        lines.append(
            f"Simulated as a sequence ({when}): net value {_money(seq['net_mean'])} "
            f"[{_money(seq['net_lo95'])}, {_money(seq['net_hi95'])}] ({seq['n']} seeds), "
            + (
                f"payback {seq['payback']['payback_months']:.1f} months"
                if seq["payback"]["share"]
                else "no payback within the horizon"
            )
            + "; all at once: "
            f"{_money(best.net_mean)}."
        )
        lines.append("")
    inter = result["interactions"]
    if len(inter):
        lines.append("Pairs (interaction = together minus the sum of each alone, revenue/yr):")
        for r in inter.sort_values("interaction").itertuples():
            lines.append(
                f"- {r.tactic_a} + {r.tactic_b}: {r.kind}, {r.relative_interaction:+.1%} of "
                f"baseline revenue [{r.relative_lo95:+.1%}, {r.relative_hi95:+.1%}]"
            )
        lines.append("")
    lines.append("Top portfolios (portfolio.csv has all):")
    from sim.report import _markdown_table

    show = table.head(8)[
        ["tactics", "first_year_cost", "fits_budget", "net_mean", "net_lo95", "net_hi95", "p_best"]
    ].copy()
    for col in ("first_year_cost", "net_mean", "net_lo95", "net_hi95"):
        show[col] = show[col].map(_money)
    show["p_best"] = show["p_best"].map(lambda v: f"{v:.0%}")
    lines.append(_markdown_table(show))
    return "\n".join(lines)


def _adds_little(table: pd.DataFrame, chosen: tuple[str, ...], tactics: list[str]) -> str:
    """The tactic that adds little once one of the chosen is in place, in words.

    The tactic whose worth shrinks most beside a chosen tactic: its net value alone minus
    what it adds to that tactic.
    """
    net = dict(zip(table.portfolio, table.net_mean, strict=True))
    found, drop = None, 0.0
    for a in chosen:
        for c in tactics:
            alone = net.get(pf.name_of((c,)))
            added = pf.marginal_in_place(c, (a,), table, tactics)
            if c != a and alone is not None and pd.notna(added) and alone - added > drop:
                found, drop = (c, a, alone, added), alone - added
    if found is None:
        return ""
    c, a, alone, added = found
    return (
        f"{c} adds little once {a} is in place: alone it is worth {_money(alone)} net, beside "
        f"{a} {_money(added)}."
    )


if __name__ == "__main__":
    sys.exit(main())
