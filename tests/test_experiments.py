"""The calibration, validation and sensitivity programs, run end to end at small scale."""

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.params import BehaviourParams, build_config
from sim.validation import load_facts
from tests.conftest import ROOT, run_module


def _run(module, *args, timeout=900):
    return run_module(module, *args, timeout=timeout)


def test_the_calibrated_file_is_the_default_everywhere():
    path = ROOT / "conf/behaviour/calibrated.yaml"
    fitted = yaml.safe_load(path.read_text())
    defaults = BehaviourParams()
    for key, value in fitted.items():
        assert getattr(defaults, key) == pytest.approx(value), key
    assert "behaviour: calibrated" in (ROOT / "conf/config.yaml").read_text()
    build_config({"behaviour": fitted})  # and it is valid


def test_calibration_is_reproducible_from_its_seed(tmp_path):
    bodies = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.yaml"
        proc = _run(
            "experiments.calibrate",
            "trials=2",
            "replicates=2",
            "days=300",
            "warmup_days=40",
            "org.contract_days=100",
            f"out={out}",
            f"trials_out={tmp_path / name}.csv",
        )
        assert proc.returncode == 0, proc.stderr
        text = out.read_text()
        bodies.append([ln for ln in text.splitlines() if not ln.startswith("#")])
        assert "# " in text and "method: Optuna" in text
    assert bodies[0] == bodies[1]
    build_config({"behaviour": yaml.safe_load(out.read_text())})
    assert len(pd.read_csv(tmp_path / "a.csv")) == 2


def test_validation_checks_every_fact_in_the_file(tmp_path):
    # The documented scale (20 paired replicates): fewer leave ordering facts underpowered
    # (separate_funnels_hurt_pipeline's interval spans 0 at 4 or 8 replicates).
    proc = _run("experiments.validate", f"out={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "validation.csv")
    facts = {f.id: f for f in load_facts()}
    assert list(table.id) == list(facts)
    for row in table.itertuples():
        fact = facts[row.id]
        assert row.kind == fact.kind
        if fact.kind in ("level", "ratio", "uplift"):
            assert (row.range_low, row.range_high) == fact.range
            assert float(row.target) == fact.target
    assert (tmp_path / "validation.png").stat().st_size > 10_000
    # Calibration fits the baseline's facts: they must pass, and so must the extreme
    # conditions. What alignment does is held out: reached or missed, reported, never tuned.
    must = (
        table.loc[table.fit == "fitted"].id.tolist()
        + table.loc[table.kind == "extreme"].id.tolist()
    )
    failed = set(table.loc[~table.passed & table.id.isin(must), "id"])
    assert failed <= set(KNOWN_MISSES), f"fitted facts that no longer pass: {failed}"
    assert set(table.loc[table.fit == "held out"].kind) <= {"uplift", "ordering", "extreme"}
    assert "facts pass" in proc.stdout
    assert (tmp_path / "marginal_hour.csv").exists()


#: Fitted facts the calibrated baseline misses, with the reason (docs/ODD.md, calibration).
KNOWN_MISSES: dict[str, str] = {}


def test_sensitivity_screening_at_small_scale(tmp_path):
    proc = _run(
        "experiments.sensitivity",
        "trajectories=2",
        "replicates=1",
        "days=200",
        "warmup_days=40",
        f"out={tmp_path}",
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    from experiments.calibrate import SPACE

    assert set(table.parameter) == set(SPACE)
    assert set(table.output) == {"revenue_uplift", "win_rate_uplift"}
    assert (table.mu_star >= 0).all()
    assert (tmp_path / "sensitivity.png").stat().st_size > 10_000


def _sensitivity_bases(scenario="liaison"):
    from experiments.common import scenario_configs

    configs = scenario_configs(["baseline", scenario], ["org=small"])
    return configs["baseline"], configs[scenario]


def test_sensitivity_factors_come_from_the_declared_space():
    from experiments.sensitivity import factors_of
    from sim.space import ExperimentSpace

    base, scen = _sensitivity_bases()
    space = ExperimentSpace([base, scen])
    factors = factors_of("uncertainties", [base, scen])
    assert [f.key for f in factors] == [u.key for u in space.uncertainties([base, scen])]
    assert any(f.key.startswith("scenario.tactics.liaison.") for f in factors)
    levers = factors_of("levers", [base, scen])
    switches = {f.key for f in levers if f.kind == "bool"}
    from sim.tactics import tactic_names

    assert switches == {f"scenario.tactics.{t}" for t in tactic_names()}
    assert all(f.scenario_only for f in levers)
    ranged = factors_of("org.n_reps:3:6,scenario.tactics.liaison.n_liaisons:0:2", [base, scen])
    assert [(f.kind, f.low, f.high) for f in ranged] == [("int", 3, 6), ("int", 0, 2)]
    assert [f.value(u) for u in (0.0, 0.5, 1.0) for f in ranged[:1]] == [3, 5, 6]


@pytest.mark.parametrize(
    ("factors", "needle"),
    [
        ("org.n_reps", "org.n_reps: an organisation's number has no plausible range"),
        ("scenario.tactics.liaison.n_liaisons", "a tactic's lever (a decision) has no plausible"),
        ("org.n_reps:5:2", "needs LOW < HIGH"),
        ("org.n_reps:-1:4", "outside its allowed range"),
        ("behaviour.nope", "'behaviour.nope' is not a factor of the space"),
        ("fitted,behaviour.contact_rate", "behaviour.contact_rate is named twice"),
    ],
)
def test_sensitivity_refuses_factors_it_cannot_vary(factors, needle):
    from experiments.sensitivity import factors_of
    from sim.params import ConfigError

    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        factors_of(factors, list(_sensitivity_bases()))


def test_sensitivity_sets_levers_in_the_scenario_only_and_the_rest_in_both():
    from experiments.sensitivity import configure, factors_of

    base, scen = _sensitivity_bases()
    keys = "org.n_reps:3:6,scenario.tactics.liaison.n_liaisons:0:2,scenario.tactics.liaison"
    factors = factors_of(keys + ",scenario.tactics.liaison.brief_hours", [base, scen])
    point = {
        "org.n_reps": 5,
        "scenario.tactics.liaison.n_liaisons": 2,
        "scenario.tactics.liaison": True,
        "scenario.tactics.liaison.brief_hours": 0.4,
    }
    b, s = configure(base, point, factors, False), configure(scen, point, factors, True)
    assert b.org.n_reps == s.org.n_reps == 5
    assert "liaison" not in b.scenario.tactics
    tactic = s.scenario.tactic_params()["liaison"]
    assert (tactic.n_liaisons, tactic.brief_hours) == (2, 0.4)
    off = configure(scen, {**point, "scenario.tactics.liaison": False}, factors, True)
    assert "liaison" not in off.scenario.tactics


def test_sobol_confidence_intervals_repeat_for_every_seed_zero_included():
    # SALib leaves its bootstrap unseeded for seed=0, the program's default.
    from SALib.sample import sobol as sobol_sample

    from experiments.sensitivity import analyse

    prob = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0.0, 1.0]] * 3}
    design = sobol_sample.sample(prob, 16, calc_second_order=False, seed=1)
    y = pd.DataFrame({"out": design[:, 0] + design[:, 1] ** 2 + np.sin(5 * design[:, 2])})
    for seed in (0, 3):
        first, again = (analyse("sobol", prob, design, y, seed) for _ in range(2))
        pd.testing.assert_frame_equal(first, again)


def test_sensitivity_warns_when_an_interval_is_wider_than_its_index():
    from experiments.sensitivity import too_small

    table = pd.DataFrame({"wide_interval": [True, False, False]})
    assert "too small for 1 of 3 indices" in too_small(table, "morris")
    assert "trajectories=" in too_small(table, "morris")
    assert too_small(table.assign(wide_interval=False), "sobol") is None


def test_sensitivity_of_any_kpi_effect_over_chosen_factors(tmp_path):
    proc = _run(
        "experiments.sensitivity",
        "factors=org.n_reps:3:6,scenario.tactics.liaison.brief_hours",
        "scenario=liaison",
        "kpis=win_rate,leads_created",
        "effect=difference",
        "trajectories=2",
        "replicates=1",
        "org=small",
        "days=100",
        "warmup_days=20",
        f"out={tmp_path / 'out'}",
        f"study={tmp_path / 'study'}",
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert set(table.parameter) == {"org.n_reps", "scenario.tactics.liaison.brief_hours"}
    assert set(table.output) == {"win_rate_uplift", "leads_created_uplift"}
    assert ("too small for" in proc.stderr) == bool(table.wide_interval.any())
    samples = pd.read_csv(tmp_path / "out" / "samples.csv")
    runs = pd.read_parquet(tmp_path / "study" / "runs.parquet")
    assert len(runs) == 2 * len(samples)  # baseline and scenario at each point, one seed
    assert set(runs["org.n_reps"]) == set(samples["org.n_reps"]) <= {3, 4, 5, 6}
    # each output is the scenario's KPI minus the baseline's at the same point and seed
    ids = runs.run_id.astype(str)
    for i in range(len(samples)):
        base = runs.loc[ids.str.startswith(f"p{i:05d}_baseline")].iloc[0]
        scen = runs.loc[ids.str.startswith(f"p{i:05d}_scenario")].iloc[0]
        assert base.seed == scen.seed and base["org.n_reps"] == scen["org.n_reps"]
        assert pd.isna(base["tactic.liaison.n_liaisons"]) and scen["tactics"] == "liaison"
        for kpi in ("win_rate", "leads_created"):
            assert samples[f"{kpi}_uplift"][i] == pytest.approx(scen[kpi] - base[kpi])


def test_experiment_programs_refuse_bad_input():
    for module, arg in (
        ("experiments.validate", "replicates=1"),
        ("experiments.calibrate", "trials=0"),
        ("experiments.sensitivity", "method=fast"),
        ("experiments.sensitivity", "kpis=revenue_per_day"),
        ("experiments.sensitivity", "factors=org.n_reps"),
        ("experiments.validate", "org.n_reps=-2"),
    ):
        proc = _run(module, arg, timeout=120)
        assert proc.returncode == 2, (module, proc.stderr)
        assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


def test_bench_quick_measures_every_target(tmp_path):
    proc = _run("experiments.bench", "quick=1", "repeats=1", "profile=1", f"out={tmp_path}")
    # timings on a shared machine may miss a target at this small scale; the run must finish
    assert proc.returncode in (0, 1), proc.stderr
    targets = pd.read_csv(tmp_path / "targets.csv")
    assert len(targets) == 11
    assert list(targets.columns[:4]) == ["target", "goal", "median", "range"]
    assert targets["median"].notna().all() and (targets["median"] > 0).all()
    # the make-run study ran serially and on two workers and gave the same table
    identical = targets.loc[targets.target.str.startswith("study tables identical")]
    assert bool(identical.met.iloc[0])
    rows = pd.read_csv(tmp_path / "bench.csv")
    kinds = {"per_lead", "scale_leads", "scale_days", "steady_state", "memory", "overhead"}
    kinds |= {"make_run", "diagnose"}
    assert kinds <= set(rows.kind)
    assert (tmp_path / "bench.png").stat().st_size > 10_000
    assert "tottime" in (tmp_path / "profile.txt").read_text()
    assert "run time per lead" in proc.stdout and "wall / summed run time" in proc.stdout


def test_bench_memory_is_the_child_runs_own_peak():
    """A child started from a large process must not report the parent's resident size."""
    from experiments.bench import peak_memory

    ballast = np.ones(40_000_000)  # about 305 MiB resident in this process
    mib, leads = peak_memory(30, 0.2)
    assert ballast[-1] == 1.0
    assert leads > 0
    assert mib < 250


@pytest.mark.slow
def test_bench_scale_measures_a_sobol_study_ray_and_a_coordinators_memory(tmp_path):
    pytest.importorskip("ray")
    proc = _run("experiments.bench", "only=scale", "quick=1", f"out={tmp_path}", timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    proc = _run("experiments.bench", "only=memory", "quick=1", f"out={tmp_path}/m", timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    targets = pd.concat(
        [pd.read_csv(tmp_path / "targets.csv"), pd.read_csv(tmp_path / "m" / "targets.csv")]
    ).set_index("target")
    goals = targets.loc[targets.goal != "-"]
    assert len(goals) == 3 and len(targets) == 14
    equal = goals.loc[goals.index.str.contains("local Ray head")]
    assert bool(equal.met.iloc[0])  # the same tables on Ray as serially
    assert targets.loc[targets.goal == "-", "met"].isna().all()  # measurements pass or fail nothing
    rows = pd.concat([pd.read_csv(tmp_path / "bench.csv"), pd.read_csv(tmp_path / "m/bench.csv")])
    sobol = rows.loc[rows.kind == "sobol"]
    assert list(sobol.runs) == [2 * n * 12 for n in (2, 4)]  # N=2 and 4, 10 factors, 2 sides
    assert (sobol.wall_seconds > 0).all() and (sobol.run_seconds > 0).all()
    memory = rows.loc[rows.kind == "coordinator_memory"]
    assert list(memory.runs) == [100, 400] and (memory.peak_mib >= memory.specs_mib).all()
    assert (memory.parts > 0).all()
    peak = targets.loc[targets.index.str.startswith("coordinator peak memory, 1,000-run")]
    assert peak.range.iloc[0] == "extrapolated from 100 and 400 runs"


@pytest.mark.slow
def test_bench_times_the_main_job_against_the_same_without_draws(tmp_path):
    keep = tmp_path / "studies"
    proc = _run(
        "experiments.bench",
        "only=draws",
        "quick=1",
        "job_repeats=1",
        "draw_seed=3",
        f"out={tmp_path}",
        f"keep={keep}",
    )
    assert proc.returncode in (0, 1), proc.stderr
    targets = pd.read_csv(tmp_path / "targets.csv")
    assert len(targets) == 1 and "draws=0" in targets.target[0]
    rows = pd.read_csv(tmp_path / "bench.csv")
    row = rows.loc[rows.kind == "draws"].iloc[0]
    assert row.main_runs > row.noise_only_runs > 0
    assert row.ratio == pytest.approx(row.main_seconds / row.noise_only_seconds)
    assert targets["median"][0] == pytest.approx(row.ratio)
    # the studies are the real programs' outputs: with draws, and without
    assert (keep / "draw_seed3" / "uncertainty.csv").exists()
    assert not (keep / "draws0_0" / "uncertainty.csv").exists()
    assert (keep / "draws0_0" / "effects.csv").exists()
