"""The diagnostic: fit the model to a CRM export, through ``python -m experiments.diagnose``.

The recovery tests fit exports the model made with known parameters: the true values must
lie inside the fitted intervals of the parameters the data identifies. ``make test`` fits one
tiny client on two parameters; the coverage over several clients, on every fitted parameter,
is a slow test.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import sim
from sim import export as ex
from sim import fit
from sim.runner import run
from tests.conftest import run_module

FIT_COLUMNS = ["statistic", "client", "model_median", "model_lo", "model_hi", "fitted"]


@pytest.fixture(scope="module")
def small_export(tmp_path_factory):
    """An export of 170 business days of the small organisation, and its team file."""
    where = tmp_path_factory.mktemp("client")
    cfg = sim.load_config(["org=small", "days=170", "warmup_days=40", "record_journeys=true"])
    data = ex.write_export(run(cfg).journeys, where / "export.csv")
    team = where / "team.yaml"
    team.write_text("n_reps: 4\nn_marketers: 2\n")
    return data, team


def test_diagnose_end_to_end(small_export, tmp_path):
    data, team = small_export
    out = tmp_path / "out"
    done = run_module(
        "experiments.diagnose",
        f"data={data}",
        f"team={team}",
        "warmup_days=40",
        "particles=20",
        "check=2",
        "replicates=2",
        "draws=1",
        "scenarios=liaison",
        "n_jobs=1",
        f"hydra.run.dir={out}",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    fitted = pd.read_csv(out / "fit.csv")
    assert list(fitted.columns[: len(FIT_COLUMNS)]) == FIT_COLUMNS
    assert list(fitted.statistic) == list(ex.STATISTICS)
    assert set(fitted.fitted) <= {"calibrated", "direct", "no"} | {
        f"no: needs {c}" for c in ex.COLUMNS
    }
    # retention needs a first renewal inside 130 measured days: none with a 250-day contract
    assert fitted.set_index("statistic").loc["retention_12m", "fitted"] == "no"
    posterior = pd.read_csv(out / "posterior.csv")
    assert list(posterior.parameter) == [f"behaviour.{k}" for k in fit.fitted_space()]
    assert set(posterior.identified) <= {"yes", "no"}
    assert (posterior.posterior_lo >= posterior.prior_lo).all()
    assert (posterior.posterior_hi <= posterior.prior_hi).all()
    report = (out / "report.md").read_text()
    assert report.split("\n## ", 2)[1].startswith("Your funnel")
    assert (out / "effects.csv").exists() and (out / "conf" / "org" / "client.yaml").exists()
    # the client's draws are fitted to its own export: no check against published benchmarks
    assert (out / "uncertainty.csv").exists() and not (out / "consistency.csv").exists()
    assert "published facts" not in report
    record = json.loads((out / "diagnose.json").read_text())
    assert record["particles"] == 20 and record["leads"] == len(pd.read_csv(data))
    org = sim.load_config(
        ["org=client", "behaviour=client", f"hydra.searchpath=[file://{out / 'conf'}]"]
    ).org
    assert org.n_reps == 4 and org.inbound_leads_per_day == pytest.approx(12, rel=0.1)


def test_diagnose_bad_export_is_one_line_exit_2_nothing_written(small_export, tmp_path):
    data, team = small_export
    table = pd.read_csv(data, dtype=str, keep_default_na=False).drop(columns="outcome")
    broken = tmp_path / "broken.csv"
    table.to_csv(broken, index=False)
    out = tmp_path / "out"
    done = run_module(
        "experiments.diagnose", f"data={broken}", f"team={team}", f"hydra.run.dir={out}"
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: data={broken}: no column 'outcome'; required: lead_id, created_date, outcome "
        "(optional: source, mql_date, sal_date, sql_date, first_touch_date, closed_date, "
        "amount, churn_date)"
    ]
    assert not out.exists()
    bad_team = tmp_path / "team.yaml"
    bad_team.write_text("n_reps: 4\nwin_rate: 0.3\n")
    done = run_module(
        "experiments.diagnose", f"data={data}", f"team={bad_team}", f"hydra.run.dir={out}"
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "team.win_rate: not a team key; allowed: n_reps" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "data=: required"),
        (["data=x.csv", "particles=5"], "particles=5: must be a whole number >= 20"),
        (["data=x.csv", "accept=0"], "accept=0.0: must be a share in (0, 1]"),
        (["data=x.csv", "org.n_reps=3"], "org.n_reps=3: set by this program"),
        (["data=x.csv", "seed=-1"], "seed=-1: must be a whole number >= 0"),
    ],
)
def test_diagnose_refuses_bad_options(args, message, capsys):
    from experiments.diagnose import main

    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_warmup_longer_than_the_export_is_refused(small_export, capsys):
    from experiments.diagnose import main

    data, team = small_export
    assert main([f"data={data}", f"team={team}", "warmup_days=150"]) == 2
    assert "warmup_days=150: the export spans 170 business days" in capsys.readouterr().err


# --- the two calibration rounds, on a toy problem whose posterior is known --------------------

TOY_SPACE = {"informed": (0.0, 1.0), "uninformed": (0.0, 1.0)}
TOY_NOISE = 0.05


def toy_simulate(draws: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Statistic ``s`` measures ``informed`` with noise; ``t`` is noise, whatever the draw."""
    rng = np.random.default_rng(seed)
    n = len(draws)
    return pd.DataFrame(
        {
            "s": draws["informed"].to_numpy() + rng.normal(0, TOY_NOISE, n),
            "t": rng.normal(0, 1, n),
        }
    )


def toy_fit(rounds: int, particles: int = 400) -> fit.Posterior:
    """``sim.fit.calibrate``'s steps on the toy: a round from the prior, then the truncated one."""
    observed = {"s": 0.3, "t": 0.0}
    prior = fit.prior_draws(particles, 1, TOY_SPACE)
    simulated = toy_simulate(prior, 1)
    post = fit.accept_draws(prior, simulated, observed, ["s", "t"], TOY_SPACE, accept=0.2)
    if rounds == 1:
        return post
    box = fit.truncated_space(post)
    prior2 = fit.prior_draws(particles, 1, box, stream=2)
    inside = np.logical_and.reduce(
        [(prior[k] >= lo) & (prior[k] <= hi) for k, (lo, hi) in box.items()]
    )
    return fit.accept_draws(
        pd.concat([prior, prior2], ignore_index=True),
        pd.concat([simulated, toy_simulate(prior2, 2)], ignore_index=True),
        observed,
        ["s", "t"],
        TOY_SPACE,
        accept=0.2,
        eligible=np.concatenate([inside, np.ones(particles, dtype=bool)]),
        box=box,
        rounds=np.repeat([1, 2], particles),
    )


def test_truncated_round_narrows_only_what_the_data_informs():
    first = toy_fit(rounds=1)
    box = fit.truncated_space(first)
    lo, hi = box["informed"]
    assert hi - lo < 0.6  # the statistic pins it: round two draws from a narrower box
    assert lo < 0.3 - 3 * TOY_NOISE and hi > 0.3 + 3 * TOY_NOISE  # with a wide margin
    assert box["uninformed"][1] - box["uninformed"][0] > 0.95  # no information: ~whole prior
    draws = fit.prior_draws(100, 1, box, stream=2)
    assert draws["informed"].between(lo, hi).all()
    assert not np.allclose(draws.to_numpy(), fit.prior_draws(100, 1, box).to_numpy())


def test_two_rounds_keep_the_posterior_and_only_eligible_runs():
    """Uniform prior, s ~ N(informed, 0.05), s = 0.3: the posterior is about N(0.3, 0.05)."""
    post = toy_fit(rounds=2)
    assert set(post.rounds) == {1, 2}
    assert post.eligible[post.accepted].all()  # a first-round run outside the box is never kept
    assert (~post.eligible[post.rounds == 1]).any()
    inside = post.samples["informed"].between(*post.box["informed"])
    assert inside.all()
    median, lo, hi = post.quantiles([0.5, 0.05, 0.95])["informed"]
    assert median == pytest.approx(0.3, abs=0.03)
    # the central 90% of N(0.3, 0.05) spans 0.164: neither collapsed nor left wide
    assert 0.12 < hi - lo < 0.22, (lo, hi)
    u_lo, u_hi = post.quantiles([0.05, 0.95])["uninformed"]
    assert u_hi - u_lo > 0.7  # still the prior's 90% (0.9), give or take the sample


# --- recovery ----------------------------------------------------------------------------------


def test_recovery_of_a_tiny_client():
    """Two parameters fitted on the statistics that inform them; the truth is not a default."""
    truth = sim.load_config(
        [
            "org=small",
            "days=200",
            "warmup_days=50",
            "seed=11",
            "behaviour.win_base=0.55",
            "behaviour.no_decision_base=0.5",
        ]
    )
    bounds = fit.fitted_space()
    space = {k: bounds[k] for k in ("win_base", "no_decision_base")}
    table = fit.recover(
        truth, particles=30, n_jobs=1, space=space, statistics=["win_rate", "no_decision_share"]
    )
    identified = table.loc[table.identified == "yes"]
    assert len(identified) >= 1, table.to_string()  # else the test would check nothing
    assert identified.covered.all(), table.to_string()


CLIENTS = [
    # (seed, behavioural parameters that differ from the defaults)
    (21, {}),
    (22, {"win_base": 0.5, "churn_base": 0.08, "follow_up_bar": 0.3}),
    (23, {"no_decision_base": 0.6, "sql_scale": 3.0, "contact_rate": 0.6}),
    (24, {"opportunity_hours_per_day": 0.15, "accept_bar": 0.45, "win_base": 0.85}),
]


@pytest.mark.slow
def test_recovery_coverage_over_several_clients():
    """Every fitted parameter on the small organisation over two years, four clients.

    The intervals hold 90% of the fitted distribution: over the identified parameters of
    four clients, at least 75% must hold the truth (the 5% lower tail of a binomial with
    p = 0.9 over about 20-30 parameters is near 80%). Two calibration rounds of 300 runs
    each, as the diagnostic runs by default (about 2,400 runs in all: several minutes on
    two idle cores). Measured on 2026-11-28: 13 of 17 identified intervals (76%) held the
    truth; with one round, 14 of 21 (67%), when this test was a strict xfail.
    """
    rows = []
    for seed, params in CLIENTS:
        truth = sim.load_config(
            ["org=small", "days=500", "warmup_days=125", f"seed={seed}"]
            + [f"behaviour.{k}={v}" for k, v in params.items()]
        )
        table = fit.recover(truth, particles=300, seed=seed)
        table.insert(0, "client", seed)
        rows.append(table)
    coverage = pd.concat(rows)
    print(coverage.to_string())
    identified = coverage.loc[coverage.identified == "yes"]
    assert len(identified) >= 8, coverage.to_string()
    assert identified.covered.mean() >= 0.75, coverage.to_string()
