"""The EMA Workbench adapter (sim.ema): the declared space as an EMA model, run by EMA itself."""

import math
import pickle

import numpy as np
import pytest

ema_workbench = pytest.importorskip("ema_workbench")

import sim  # noqa: E402
import sim.ema  # noqa: E402
from sim.kpis import KPIS  # noqa: E402
from sim.params import ConfigError, build_config, config_dict  # noqa: E402
from sim.space import ExperimentSpace  # noqa: E402
from sim.tactics import tactic_names  # noqa: E402

TINY = ["org=small", "days=60", "warmup_days=10"]
KPI_NAMES = ["revenue_per_year", "win_rate", "leads_created"]


@pytest.fixture(scope="module")
def space():
    return ExperimentSpace()


def test_the_model_is_the_declared_space(space):
    m = sim.ema.model(TINY, seeds=2)
    keys = sim.ema.names(m)
    uncertainties = {u.key: u for u in space.uncertainties()}
    assert [keys[p.name] for p in m.uncertainties] == list(uncertainties)
    for p in m.uncertainties:
        u = uncertainties[keys[p.name]]
        # EMA samples each from its plausible range: the distribution's support is the range
        assert p.dist.ppf(0.0) == pytest.approx(u.low, abs=1 if u.kind == "int" else 1e-12)
        assert p.dist.ppf(1.0) == pytest.approx(u.high, rel=1e-9)
        assert p.dist.ppf(0.5) == pytest.approx(float(u.ppf([0.5])[0]), rel=1e-9, abs=1)
    levers = [keys[p.name] for p in m.levers]
    assert levers == [lever.key for lever in space.levers()]
    assert {f"scenario.tactics.{t}" for t in tactic_names()} <= set(levers)
    assert [o.name for o in m.outcomes] == list(KPIS)


# EMA registers an outcome name's kind once per process: the one-run model in its own process.
ONE_RUN = """
import sim.ema
from ema_workbench import Model
from sim.kpis import KPIS
m = sim.ema.model(["org=small", "days=60", "warmup_days=10"])
assert isinstance(m, Model)
for o in m.outcomes:
    d = KPIS[o.name].direction
    assert o.kind == (1 if d > 0 else -1 if d < 0 else 0), o.name
out = m.function(**{"scenario.tactics.liaison": True, "seed": 4})
assert out["revenue_per_year"] > 0
try:
    sim.ema.model(["org=small"], seeds=2)
except sim.ConfigError as exc:
    print(exc)
"""


def test_one_run_per_experiment_is_a_model_with_the_kpis_directions():
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-c", ONE_RUN], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "one kind of outcome per name in a process" in done.stdout


def test_replications_are_seeds_and_the_function_pickles():
    m = sim.ema.model(TINY, seeds=3)
    assert isinstance(m, ema_workbench.ReplicatorModel)
    base = sim.load_config(TINY).seed
    assert [r["seed"] for r in m.replications] == [base, base + 1, base + 2]
    assert pickle.loads(pickle.dumps(m.function)).outcomes == m.function.outcomes


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kpis": ["no_such_kpi"]}, "kpis: no_such_kpi is not a KPI"),
        ({"seeds": 0}, "seeds = 0"),
        ({"seeds": [1, 1]}, "seeds = [1, 1]"),
        ({"lever_ranges": {"no_such": (0, 1)}}, "'no_such' is not a lever"),
        ({"lever_ranges": {"liaison__n_liaisons": (2, 4)}}, "does not contain the base value"),
    ],
)
def test_bad_arguments_are_refused_with_one_line(kwargs, needle):
    with pytest.raises(ConfigError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        sim.ema.model(TINY, **{"seeds": 1, **kwargs})


def _by_hand(row, levers, names, base, seed):
    """The config EMA's experiment ``row`` with ``levers`` stands for, built without sim.ema."""
    from sim.tactics import tactic_class

    data = config_dict(base)
    tactics = {name: {} for name in tactic_names() if levers.get(name, False)}
    values = {**row.to_dict(), **levers}
    for ema_name, key in names.items():
        if ema_name not in values:
            continue
        value, parts = values[ema_name], key.split(".")
        if parts[0] == "behaviour":
            kind = type(getattr(base.behaviour, parts[1]))
            data["behaviour"][parts[1]] = int(np.floor(value + 0.5)) if kind is int else value
        elif len(parts) == 4 and parts[2] in tactics:
            kind = type(getattr(tactic_class(parts[2])(), parts[3]))
            tactics[parts[2]][parts[3]] = kind(np.floor(value + 0.5) if kind is int else value)
    data["scenario"] = {"name": "by_hand", "tactics": tactics}
    data["seed"] = seed
    return build_config(data)


def test_outcomes_are_what_sim_run_gives_for_the_same_inputs_and_seed():
    from ema_workbench import Sample, SequentialEvaluator, perform_experiments

    seeds = [5, 6]
    m = sim.ema.model(TINY, seeds=seeds, kpis=KPI_NAMES)
    policies = {
        "none": {},  # every lever at its base value: the baseline
        "four_tactics": {
            "combined_funnel": True,
            "liaison": True,
            "liaison__n_liaisons": 2,
            "data_sharing": True,
            "lead_validation": True,
        },
    }
    with SequentialEvaluator(m) as evaluator:
        experiments, outcomes = perform_experiments(
            m,
            scenarios=2,
            policies=[Sample(name, **levers) for name, levers in policies.items()],
            evaluator=evaluator,
        )
    assert len(experiments) == 4
    assert outcomes["revenue_per_year"].shape == (4, len(seeds))
    names = sim.ema.names(m)
    base = sim.load_config(TINY)
    for i, row in experiments.iterrows():
        levers = policies[row["policy"]]
        for j, seed in enumerate(seeds):
            cfg = _by_hand(row, levers, names, base, seed)
            if levers:
                assert set(cfg.scenario.tactics) == {
                    "combined_funnel",
                    "liaison",
                    "data_sharing",
                    "lead_validation",
                }
                assert cfg.scenario.tactic_params()["liaison"].n_liaisons == 2
            summary = sim.run(cfg).summary
            for kpi in KPI_NAMES:
                expected, got = summary[kpi], outcomes[kpi][i, j]
                assert (expected is None and math.isnan(got)) or got == expected, (i, seed, kpi)
    # the draws and the levers matter: the four experiments differ
    revenue = outcomes["revenue_per_year"]
    assert len({tuple(r) for r in revenue}) == 4


def test_a_tactic_that_is_off_ignores_its_uncertainties():
    m = sim.ema.model(TINY, seeds=1)
    off = m.function.config({"scenario.tactics.liaison.brief_hours": 0.5})
    on = m.function.config(
        {"scenario.tactics.liaison": True, "scenario.tactics.liaison.brief_hours": 0.5}
    )
    assert "liaison" not in off.scenario.tactics
    assert on.scenario.tactic_params()["liaison"].brief_hours == 0.5
