"""Effects under the assumptions' plausible ranges: the summaries, and the comparison's draws."""

import functools

import numpy as np
import pandas as pd
import pytest

from sim.space import load_screened
from sim.uncertainty import (
    COLUMNS,
    DISCOVERY_COLUMNS,
    consistency,
    discovery,
    drivers,
    pair_effects,
    single_changes,
    uncertainty,
)
from tests.conftest import run_module


def fake_runs(n_draws=40, seeds=(1, 2)):
    """baseline, two single tactics and their bundle; tactic a's effect grows with x."""
    rng = np.random.default_rng(0)
    rows = []
    for draw in range(0, n_draws + 1):
        x = rng.uniform(0, 1)
        for seed in seeds:
            market = 100 + 10 * rng.standard_normal()
            effects = {"baseline": 0.0, "a": 0.3 * x - 0.05, "b": 0.05, "ab": 0.3 * x + 0.05}
            for scenario, effect in effects.items():
                rows.append(
                    {
                        "scenario": scenario,
                        "draw": draw,
                        "seed": seed,
                        "tactics": {"baseline": "none", "a": "a", "b": "b", "ab": "a+b"}[scenario],
                        "funnel": "separate",
                        "behaviour.x": x,
                        "behaviour.fixed": 1.0,
                        "revenue_per_year": market * (1 + effect),
                        "win_rate": 0.2,
                    }
                )
    return pd.DataFrame(rows)


def test_effects_pair_within_a_draw_and_seed_and_leave_draw_0_out():
    runs = fake_runs(n_draws=3)
    pairs = pair_effects(runs, "baseline", ["revenue_per_year"])
    assert set(pairs.draw) == {1, 2, 3}
    b = pairs.loc[pairs.scenario == "b", "revenue_per_year"]
    np.testing.assert_allclose(b, 0.05)  # the market cancels within a pair


def test_summaries_probabilities_and_ranges():
    runs = fake_runs()
    table = uncertainty(runs, "baseline", ["revenue_per_year", "win_rate"])
    assert list(table.columns) == COLUMNS
    rev = table.loc[table.kpi == "revenue_per_year"].set_index("scenario")
    assert rev.loc["b", "median"] == pytest.approx(0.05)
    assert rev.loc["b", "p_positive"] == 1.0
    assert 0 < rev.loc["a", "p_positive"] < 1
    assert (rev.lo95 <= rev.lo80).all() and (rev.lo80 <= rev["median"]).all()
    assert (rev["median"] <= rev.hi80).all() and (rev.hi80 <= rev.hi95).all()
    # P(best) over the single changes only: sums to 1; the bundle has none
    assert single_changes(runs, "baseline") == ["a", "b"]
    assert rev.loc[["a", "b"], "p_best"].sum() == pytest.approx(1.0)
    assert np.isnan(rev.loc["ab", "p_best"])
    # a ranking by draws: a is best where 0.3 x - 0.05 > 0.05, x > 1/3
    assert rev.loc["a", "p_best"] == pytest.approx(0.67, abs=0.15)
    assert (rev.n_draws == 40).all() and (rev.n_seeds == 2).all()


def test_drivers_find_the_assumption_that_moves_an_effect():
    table = drivers(fake_runs(), "baseline", "revenue_per_year")
    a = table.loc[table.scenario == "a"].iloc[0]
    assert a.parameter == "behaviour.x" and a["index"] > 0.9 and a.lo95 > 0
    assert "behaviour.fixed" not in set(table.parameter)  # it does not vary
    # b's effect is the same in every draw: nothing drives it (no correlation to report)
    assert table.loc[table.scenario == "b"].empty


def test_discovery_finds_the_box_where_a_tactic_fails_to_pay():
    # tactic a loses revenue where 0.3 x - 0.05 < 0, i.e. x < 1/6
    table = discovery(fake_runs(n_draws=120), "baseline", "revenue_per_year")
    assert list(table.columns) == DISCOVERY_COLUMNS
    a = table.set_index("scenario").loc["a"]
    assert a.restrictions.startswith("behaviour.x in [")
    high = float(a.restrictions.split(",")[1].strip(" ]").split(";")[0])
    assert high == pytest.approx(1 / 6, abs=0.05)
    assert a.coverage > 0.8 and a.density > 0.8
    b = table.set_index("scenario").loc["b"]  # never below: no box, and it says why
    assert b.restrictions == "" and "too few" in b.note


def test_a_draw_is_consistent_when_its_baseline_reproduces_every_fitted_fact():
    from sim.validation import Fact

    fact = functools.partial(Fact, statement="", scenario="baseline")
    facts = [
        fact(id="f", kind="level", kpi="win_rate", range=(0.1, 0.3)),
        fact(id="g", kind="ratio", kpi="revenue_per_year", range=(50.0, 150.0)),
        # an effect: never a condition on the baseline
        fact(
            id="h",
            kind="uplift",
            scenario="a",
            versus="baseline",
            kpi="win_rate",
            range=(0.0, 0.01),
        ),
    ]
    runs = fake_runs(n_draws=4)
    base = runs.scenario == "baseline"
    runs.loc[base & (runs["draw"] == 2), "win_rate"] = 0.5  # out of range on every seed
    runs.loc[base & (runs["draw"] == 3) & (runs.seed == 1), "win_rate"] = 0.36  # mean 0.28: in
    runs.loc[base & (runs["draw"] == 4), "revenue_per_year"] = 10.0
    runs.loc[base & (runs["draw"] == 0), "win_rate"] = 0.9  # the defaults: not a draw
    fits = consistency(runs, "baseline", facts).set_index("draw")
    assert list(fits.index) == [1, 2, 3, 4]
    assert (fits.checked == 2).all()
    assert fits.consistent.tolist() == [True, False, True, False]
    assert fits.loc[2, "missed"] == "f" and fits.loc[4, "missed"] == "g"
    assert fits.loc[[1, 3], "reproduced"].tolist() == [2, 2]
    runs.loc[base & (runs["draw"] == 1), "win_rate"] = np.nan  # cannot be measured: missed
    assert not consistency(runs, "baseline", facts).set_index("draw").loc[1, "consistent"]


def test_the_comparison_draws_the_assumptions_and_reports_them(tmp_path):
    out = tmp_path / "cmp"
    done = run_module(
        "experiments.compare_tactics",
        "org=small",
        "days=100",
        "warmup_days=20",
        "replicates=2",
        "draws=6",
        "scenarios=baseline,liaison,data_sharing",
        f"hydra.sweep.dir={out}",
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["draw"].unique()) == list(range(7))
    assert len(runs) == 3 * (2 + 6)
    drawn = runs.loc[runs["draw"] > 0]
    # within a draw, every scenario shares the draw's behaviour and seed
    per_draw = drawn.groupby("draw")[["behaviour.promise_noise", "seed"]].nunique()
    assert (per_draw == 1).all().all()
    assert drawn["behaviour.promise_noise"].nunique() == 6  # a different value each draw
    # the liaison's own assumptions vary where it is on, and stay unset where it is off
    assert drawn.loc[drawn.scenario == "liaison", "tactic.liaison.brief_hours"].nunique() == 6
    assert drawn.loc[drawn.scenario == "baseline", "tactic.liaison.brief_hours"].isna().all()
    table = pd.read_csv(out / "uncertainty.csv")
    assert list(table.columns) == COLUMNS
    assert set(table.scenario) == {"liaison", "data_sharing"}
    assert (table.loc[table.kpi == "revenue_per_year", "n_draws"] == 6).all()
    assert (out / "drivers.csv").exists() and (out / "figures" / "uncertainty.png").exists()
    assert list(pd.read_csv(out / "discovery.csv").columns) == DISCOVERY_COLUMNS
    # the same answer over the draws whose baseline reproduces the published facts
    fits = pd.read_csv(out / "consistency.csv")
    assert sorted(fits["draw"]) == list(range(1, 7))
    kept = pd.read_csv(out / "uncertainty_consistent.csv")
    assert list(kept.columns) == COLUMNS
    assert (kept.loc[kept.kpi == "revenue_per_year", "n_draws"] == fits.consistent.sum()).all()
    report = (out / "report.md").read_text()
    assert "Only the draws whose baseline matches the published facts" in report
    assert f"{fits.consistent.sum()} of 6 draws give a baseline" in done.stdout
    assert "The answer under what we do not know" in report
    assert "Given the default assumptions only" in report
    assert "under what we do not know" in done.stdout
    # the behaviour of each draw is one of the draws screened against the facts (the default)
    screened = load_screened().filter(like="behaviour.")
    rows = {tuple(np.round(r, 9)) for r in screened.to_numpy(float)}
    per_draw = drawn.groupby("draw")[list(screened.columns)].first().to_numpy(float)
    assert all(tuple(np.round(r, 9)) in rows for r in per_draw)
    assert "screened_behaviour.csv" in done.stdout and "screened_behaviour.csv" in report
    # the noise-only effects are draw 0's alone
    effects = pd.read_csv(out / "effects.csv")
    assert (effects.loc[effects.kpi == "revenue_per_year", "n"] == 2).all()
