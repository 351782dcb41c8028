"""The portfolio search (issue 17): net value, interactions, order, and the program end to end."""

import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import sim
from experiments.portfolio import main as portfolio_main
from sim import portfolio as pf
from sim.tactics import Tactic
from tests.conftest import run_module

TINY = ["org=small", "horizon_days=40", "replicates=2"]
PAIR = "tactics=shared_goals,lead_validation"


# --- interactions --------------------------------------------------------------------------


def _runs(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"scenario": s, "draw": 0, "seed": i, pf.KPI: v}
        for s, vs in values.items()
        for i, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_an_interaction_is_the_pair_minus_the_sum_of_each_alone_paired_by_seed():
    base = [100.0, 200.0, 150.0]
    runs = _runs(
        {
            "baseline": base,
            "a": [b + 10 for b in base],
            "b": [b + 5 for b in base],
            "a-b": [b + 25 + i for i, b in enumerate(base)],  # complements: +10 +- 1
            "c": [b + 8 for b in base],
            "a-c": [b + 10 + i for i, b in enumerate(base)],  # substitutes: -8 +- 1
        }
    )
    table = pf.interactions(runs, ["a", "b", "c"]).set_index(["tactic_a", "tactic_b"])
    assert table.loc[("a", "b"), "interaction"] == pytest.approx(11.0)
    assert table.loc[("a", "b"), "kind"] == "complements"
    assert table.loc[("a", "c"), "interaction"] == pytest.approx(-7.0)
    assert table.loc[("a", "c"), "kind"] == "substitutes"
    assert ("b", "c") not in table.index  # that pair was not run


@dataclass
class _FreeRekeying(Tactic):
    """A toy tactic: reps no longer re-key handed leads (frees the hours data sharing frees)."""

    name: ClassVar[str] = "free_rekeying"

    def setup(self, model):
        for rep in model.rep_order:
            rep.rekey_hours = 0.0


@dataclass
class FreeRekeyingA(_FreeRekeying):
    name: ClassVar[str] = "free_a"


@dataclass
class FreeRekeyingB(_FreeRekeying):
    name: ClassVar[str] = "free_b"


def test_two_tactics_that_free_the_same_hours_are_reported_as_substitutes():
    """Together they free what one frees: the pair is worth one of them, not two."""
    target = "tests.test_portfolio.FreeRekeying"
    portfolios = {
        "baseline": {},
        "free_a": {"free_a": {"_target_": f"{target}A"}},
        "free_b": {"free_b": {"_target_": f"{target}B"}},
        "free_a-free_b": {
            "free_a": {"_target_": f"{target}A"},
            "free_b": {"_target_": f"{target}B"},
        },
    }
    rows = []
    small = sim.load_config(["org=small"])
    for name, tactics in portfolios.items():
        for seed in range(1, 5):
            s = sim.run(small, seed=seed, days=150, warmup_days=30, tactics=tactics).summary
            rows.append({**s, "scenario": name, "draw": 0, "seed": seed})
    runs = pd.DataFrame(rows)
    table = pf.interactions(runs, ["free_a", "free_b"], kpi="mql_follow_ups")
    row = table.iloc[0]
    assert row.effect_a > 0 and row.effect_ab == pytest.approx(row.effect_a)
    assert row.kind == "substitutes"
    assert row.interaction == pytest.approx(-row.effect_b)


# --- net value, the table, the order ---------------------------------------------------------


def _costs(**first_year):
    return pd.DataFrame(
        [
            {"draw": 0, "tactic": t, "one_off": c, "running_per_year": 0.0}
            for t, c in first_year.items()
        ]
    )


def test_the_table_chooses_the_best_affordable_portfolio_and_the_greedy_order():
    base = [1000.0, 1100.0, 900.0, 1050.0]
    gains = {"a": 300, "b": 200, "c": 250, "a-b": 450, "a-c": 320, "b-c": 430, "a-b-c": 600}
    runs = _runs({"baseline": base, **{p: [b + g for b in base] for p, g in gains.items()}})
    costs = _costs(a=100.0, b=50.0, c=60.0)
    nets = pf.net_values(runs, costs, horizon_years=1.0)
    table = pf.portfolio_table(nets, costs, budget=160.0, tactics=["a", "b", "c"])
    fitting = table.loc[table.fits_budget]
    assert set(fitting.portfolio) == {"baseline", "a", "b", "c", "a-b", "b-c", "a-c"}
    assert (fitting.first_year_cost <= 160.0).all()
    picks = pf.choose(table)
    assert picks["best"].portfolio == "b-c"  # 430 - 110 = 320 beats a-b's 450 - 150 = 300
    assert picks["best"].net_mean == pytest.approx(320.0)
    assert picks["runner_up"].portfolio == "a-b"
    order = pf.greedy_order(pf.tactics_of("b-c"), table)
    assert list(order.tactic) == ["c", "b"]  # c alone nets 190, b alone 150
    assert order.marginal_net.tolist() == pytest.approx([190.0, 130.0])


def test_payback_is_when_cumulative_net_revenue_turns_positive_for_good():
    days = np.arange(1, 21)
    rows = [
        {"scenario": s, "seed": 1, "draw": 0, "day": d, "revenue": r, "recurring_revenue": 0.0}
        for d in days
        for s, r in (("baseline", 10.0), ("p", 15.0))
    ]
    series = pd.DataFrame(rows)
    # one-off 42 at adoption (day 1): +5 a day pays it back on day 9 (45 > 42)
    paid = pf.payback_days(series, "p", [(0, 42.0, 0.0)], adoption_day=1)
    assert paid.loc[1] == 9
    never = pf.payback_days(series, "p", [(0, 1000.0, 0.0)], adoption_day=1)
    assert np.isnan(never.loc[1])


# --- the program ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """One search through the real entry point, on a tiny case."""
    out = tmp_path_factory.mktemp("portfolio") / "p"
    proc = run_module("experiments.portfolio", *TINY, PAIR, "budget=200000", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_the_program_writes_the_table_the_figures_and_the_report(searched):
    out, proc = searched
    for name in (pf.TABLE, pf.INTERACTIONS, pf.ORDER, "frontier.png", "report.md"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / pf.TABLE)
    assert list(table.columns) == list(pf.PORTFOLIO_COLUMNS)  # as docs/outputs.md lists them
    assert list(pd.read_csv(out / pf.INTERACTIONS).columns) == list(pf.INTERACTION_COLUMNS)
    assert list(pd.read_csv(out / pf.ORDER).columns) == list(pf.ORDER_COLUMNS)
    # exhaustive: the empty portfolio, both singles and the pair (it fits 200,000)
    assert set(table.portfolio) == {
        "baseline",
        "lead_validation",
        "shared_goals",
        "shared_goals-lead_validation",
    }
    record = json.loads((out / "portfolio.json").read_text())
    best = table.loc[table.portfolio == record["chosen"]].iloc[0]
    assert best.fits_budget and best.first_year_cost <= 200_000
    assert best.net_mean == table.loc[table.fits_budget, "net_mean"].max()
    assert (table.n == 2).all()
    report = (out / "report.md").read_text()
    assert "## Portfolio under a budget of 200,000 a year" in report
    assert "With this budget" in report
    assert "runs:" in proc.stderr  # progress
    inter = pd.read_csv(out / pf.INTERACTIONS)
    assert len(inter) == 1 and inter.kind.iloc[0] in ("complements", "substitutes", "additive (ns)")


@pytest.mark.slow
def test_a_tighter_budget_never_chooses_beyond_it(tmp_path):
    out = tmp_path / "p"
    proc = run_module("experiments.portfolio", *TINY, PAIR, "budget=70000", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out / pf.TABLE)
    record = json.loads((out / "portfolio.json").read_text())
    chosen = table.loc[table.portfolio == record["chosen"]].iloc[0]
    assert chosen.first_year_cost <= 70_000
    assert not table.loc[table.portfolio == "shared_goals-lead_validation", "fits_budget"].any()


@pytest.mark.parametrize(
    "arg, says",
    [
        ("budget=-1", "budget=-1.0: must be a number >= 0"),
        ("budget=lots", "budget=lots: must be a float"),
        ("tactics=liaison,nope", "'nope' is not a tactic"),
        ("horizon_days=0", "horizon_days=0: must be a whole number >= 1"),
        ("days=300", "days=300: set by this program"),
        ("behaviour_draws=maybe", "behaviour_draws=maybe: must be screened or prior"),
        ("draws=1000", "draws=1000: the screened behavioural draws"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(arg, says, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status = portfolio_main(["org=small", arg, "hydra.run.dir=out"])
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and says in err, err
    assert not (tmp_path / "out").exists()


def test_a_budget_below_every_tactic_is_an_answer(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status = portfolio_main(["org=small", "budget=1000", "hydra.run.dir=out"])
    printed = capsys.readouterr().out.strip()
    assert status == 0
    assert printed.startswith("no tactic fits a budget of 1,000 a year; the cheapest")
    assert not (tmp_path / "out").exists()


def test_the_optimiser_finds_what_exhaustive_search_finds_and_never_runs_beyond_the_budget():
    """Seven toy tactics with overlaps: 128 portfolios; Optuna runs a fraction of them."""
    names = [f"t{i}" for i in range(7)]
    rng = np.random.default_rng(7)
    worth = dict(zip(names, rng.uniform(1.0, 5.0, 7), strict=True))
    cost = dict(zip(names, rng.uniform(10.0, 40.0, 7), strict=True))
    overlap = {pair: rng.uniform(-2.0, 1.0) for pair in pf.subsets(names, 2) if len(pair) == 2}
    budget = 90.0

    def cost_of(p):
        return sum(cost[t] for t in p)

    def value(p):
        pairs = [q for q in pf.subsets(p, 2) if len(q) == 2]
        return sum(worth[t] for t in p) + sum(overlap[q] for q in pairs) - 0.02 * cost_of(p)

    ran = []

    def evaluate(portfolios):
        ran.extend(portfolios)
        return {p: value(p) for p in portfolios}

    affordable = [p for p in pf.subsets(names) if cost_of(p) <= budget]
    best = max(affordable, key=value)
    start = {p: value(p) for p in pf.subsets(names, 2) if cost_of(p) <= budget}
    found = pf.optimise(evaluate, names, cost_of, budget, trials=60, known=start, seed=0)
    assert max(found, key=found.get) == best
    assert all(cost_of(p) <= budget for p in ran)
    assert len(set(ran)) == len(ran) and len(ran) + len(start) < len(affordable)


@pytest.mark.slow
def test_beyond_max_portfolios_an_optuna_search_runs_and_stays_within_the_budget(tmp_path):
    out = tmp_path / "p"
    # four tactics: 11 portfolios for the pairs, and two affordable triples: 13 > 12 (without
    # tactics= every registered tactic is searched, and ten need 56 portfolios for their pairs)
    four = "tactics=colocation,joint_planning,lead_validation,liaison"
    args = [*TINY, four, "budget=200000", "max_portfolios=12", "draws=1", f"hydra.run.dir={out}"]
    proc = run_module("experiments.portfolio", *args)
    assert proc.returncode == 0, proc.stderr
    assert "then an Optuna search" in proc.stderr
    table = pd.read_csv(out / pf.TABLE)
    record = json.loads((out / "portfolio.json").read_text())
    chosen = table.loc[table.portfolio == record["chosen"]].iloc[0]
    assert chosen.fits_budget and chosen.first_year_cost <= 200_000
    assert len(table) <= 12 and (table.n == 3).all()  # 2 seeds + 1 draw, paired across batches
